/**
 * KV states of preempted generations (docs/decisions/0022): when the scheduler takes a
 * sequence from a running generation, its sequence state (prompt plus output so far) is saved
 * to a file in this runner's temp folder before the sequence goes to the urgent request, and
 * loaded back into whichever sequence resumes it, so the resume evaluates no token twice.
 * When memory or disk is short, or the save fails, nothing is kept and the resume evaluates
 * the prompt and the output again (the behaviour before this file).
 */
import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { freemem, tmpdir } from "node:os";
import { join } from "node:path";
import type { LlamaContextSequence, Token } from "node-llama-cpp";

interface SavedState {
  path: string;
  tokens: readonly Token[];
  bytes: number;
}

export interface PreemptedStatesOptions {
  /** Bytes all saved states may take together; the oldest go first. */
  maxBytes: number;
  /** Estimated bytes of one token's KV cells, to refuse a save that memory or disk cannot hold. */
  bytesPerToken: number;
  log: (level: "debug" | "warn", message: string) => void;
}

export class PreemptedStates {
  readonly #options: PreemptedStatesOptions;
  /** Insertion order is age order: the first entry is the oldest. */
  readonly #saved = new Map<string, SavedState>();
  #directory: string | undefined;
  #totalBytes = 0;
  #nextFile = 0;

  constructor(options: PreemptedStatesOptions) {
    this.#options = options;
  }

  /** Saves the sequence's state for the request; false when it was not kept (resume re-evaluates). */
  async save(requestId: string, sequence: LlamaContextSequence): Promise<boolean> {
    await this.discard(requestId);
    const tokens = sequence.contextTokens;
    const estimate = tokens.length * this.#options.bytesPerToken;
    const shortOf = this.#shortOf(estimate);
    if (shortOf !== undefined) {
      this.#options.log(
        "debug",
        `Preempted request ${requestId}: state not saved (${shortOf}); its resume re-evaluates.`,
      );
      return false;
    }
    this.#directory ??= mkdtempSync(join(tmpdir(), "rawrxd-preempted-"));
    const path = join(this.#directory, `${this.#nextFile++}.state`);
    try {
      const { fileSize } = await sequence.saveStateToFile(path);
      this.#saved.set(requestId, { path, tokens, bytes: fileSize });
      this.#totalBytes += fileSize;
      await this.#evictOverBudget(requestId);
      return this.#saved.has(requestId);
    } catch (error) {
      await rm(path, { force: true });
      this.#options.log(
        "warn",
        `Saving the state of preempted request ${requestId} failed (${error instanceof Error ? error.message : String(error)}); its resume re-evaluates.`,
      );
      return false;
    }
  }

  /**
   * Loads the request's saved state into the sequence when the sequence holds less of `tokens`
   * than the saved state does; the saved state is dropped either way. Returns true when loaded.
   */
  async restore(
    requestId: string,
    sequence: LlamaContextSequence,
    tokens: readonly Token[],
  ): Promise<boolean> {
    const saved = this.#saved.get(requestId);
    if (saved === undefined) return false;
    try {
      if (sharedPrefixLength(saved.tokens, tokens) <= sharedPrefixLength(sequence.contextTokens, tokens))
        return false;
      await sequence.loadStateFromFile(saved.path, { acceptRisk: true });
      return true;
    } catch (error) {
      // The sequence may be half loaded: clear it, the resume re-evaluates everything.
      await sequence.clearHistory();
      this.#options.log(
        "warn",
        `Loading the saved state of request ${requestId} failed (${error instanceof Error ? error.message : String(error)}); it re-evaluates.`,
      );
      return false;
    } finally {
      await this.discard(requestId);
    }
  }

  async discard(requestId: string): Promise<void> {
    const saved = this.#saved.get(requestId);
    if (saved === undefined) return;
    this.#saved.delete(requestId);
    this.#totalBytes -= saved.bytes;
    await rm(saved.path, { force: true });
  }

  get savedCount(): number {
    return this.#saved.size;
  }

  /** Removes the temp folder; call when the runner ends. */
  disposeSync(): void {
    if (this.#directory !== undefined) rmSync(this.#directory, { recursive: true, force: true });
    this.#saved.clear();
    this.#totalBytes = 0;
  }

  /** Why a state of `bytes` cannot be kept now, or undefined when it can. */
  #shortOf(bytes: number): string | undefined {
    if (bytes > this.#options.maxBytes)
      return `${bytes} bytes over the ${this.#options.maxBytes}-byte budget`;
    // Temp folders are often RAM (tmpfs): keep twice the state free in memory and on disk.
    if (freemem() < 2 * bytes) return "memory is short";
    try {
      const disk = statfsSync(tmpdir());
      if (disk.bavail * disk.bsize < 2 * bytes) return "the temp folder's disk is short";
    } catch {
      return "the temp folder cannot be checked";
    }
    return undefined;
  }

  async #evictOverBudget(keep: string): Promise<void> {
    for (const requestId of [...this.#saved.keys()]) {
      if (this.#totalBytes <= this.#options.maxBytes) return;
      if (requestId !== keep) await this.discard(requestId);
    }
    if (this.#totalBytes > this.#options.maxBytes) await this.discard(keep);
  }
}

export function sharedPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const max = Math.min(a.length, b.length);
  let index = 0;
  while (index < max && a[index] === b[index]) index++;
  return index;
}

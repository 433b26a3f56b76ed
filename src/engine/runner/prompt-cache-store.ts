/**
 * The persistent prompt cache (--prompt-cache DIR, docs/decisions/0022): KV states of long
 * prompt prefixes saved by hash of (model file digest, engine and context settings, tokens), so
 * a long shared prefix survives a runner restart, like llama-server's slot save / restore.
 *
 * Layout: DIR/<identity hash>/<content hash>.state (node-llama-cpp's sequence state file) and
 * <content hash>.json (the tokens, the state's size and SHA-256). Both are written to a temp
 * name and renamed; the .json is written last, so an entry exists only once complete. Entries
 * are checked when the folder is opened (a bad or foreign one is deleted) and each state's
 * SHA-256 is checked before its first load: a corrupt file is deleted, never loaded. The folder
 * keeps at most `maxBytes`; the least recently used entries (file mtime) go first.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { systemTime, type TimePort } from "../../core/index.js";
import { sharedPrefixLength } from "./sequence-state.js";

const formatVersion = 1;
/** A prefix shorter than this is not worth a file, nor a load. */
export const minPrefixTokens = 64;

interface EntryMeta {
  version: number;
  identity: string;
  tokens: number[];
  stateBytes: number;
  stateSha256: string;
}

interface Entry {
  name: string;
  tokens: readonly Token[];
  bytes: number;
  sha256: string;
  usedMs: number;
  isVerified: boolean;
}

export interface PromptCacheIdentity {
  modelSha256: string;
  /** Everything else the saved KV depends on: engine build, backend, context size, layers. */
  settings: Record<string, string | number>;
}

export type PromptCacheLog = (level: "debug" | "info" | "warn", message: string) => void;

export class PromptCacheStore {
  readonly folder: string;
  readonly #identity: string;
  readonly #maxBytes: number;
  readonly #log: PromptCacheLog;
  readonly #time: TimePort;
  readonly #entries = new Map<string, Entry>();
  #nextTemp = 0;

  private constructor(parts: {
    folder: string;
    identity: string;
    maxBytes: number;
    log: PromptCacheLog;
    time: TimePort;
  }) {
    this.folder = parts.folder;
    this.#identity = parts.identity;
    this.#maxBytes = parts.maxBytes;
    this.#log = parts.log;
    this.#time = parts.time;
  }

  /** Opens (creates) this model's folder under `directory` and indexes its valid entries. */
  static open(options: {
    directory: string;
    identity: PromptCacheIdentity;
    maxBytes: number;
    log: PromptCacheLog;
    /** Recency of use (LRU); default the system clock. */
    time?: TimePort;
  }): PromptCacheStore {
    const identity = JSON.stringify({ model: options.identity.modelSha256, ...options.identity.settings });
    const identityHash = createHash("sha256").update(identity).digest("hex").slice(0, 32);
    const folder = join(options.directory, identityHash);
    mkdirSync(folder, { recursive: true });
    const store = new PromptCacheStore({
      folder,
      identity,
      maxBytes: options.maxBytes,
      log: options.log,
      time: options.time ?? systemTime,
    });
    store.#index();
    return store;
  }

  get entryCount(): number {
    return this.#entries.size;
  }

  get totalBytes(): number {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.bytes;
    return total;
  }

  /** How many leading tokens of `tokens` the best entry holds (0 when none). */
  longestPrefix(tokens: readonly Token[]): number {
    return this.#best(tokens)?.shared ?? 0;
  }

  /**
   * Loads the entry sharing the longest prefix with `tokens` into the sequence when it holds at
   * least `minPrefixTokens` more than the sequence already does. Returns true when loaded.
   */
  async loadInto(sequence: LlamaContextSequence, tokens: readonly Token[]): Promise<boolean> {
    const best = this.#best(tokens);
    if (best === undefined) return false;
    if (best.shared < sharedPrefixLength(sequence.contextTokens, tokens) + minPrefixTokens) return false;
    const { entry } = best;
    const statePath = join(this.folder, `${entry.name}.state`);
    try {
      if (!entry.isVerified) {
        const digest = createHash("sha256")
          .update(await readFile(statePath))
          .digest("hex");
        if (digest !== entry.sha256) throw new Error("its SHA-256 does not match (corrupt or changed)");
        entry.isVerified = true;
      }
      await sequence.loadStateFromFile(statePath, { acceptRisk: true });
      await this.#touch(entry);
      return true;
    } catch (error) {
      await sequence.clearHistory();
      this.#log("warn", `Prompt cache entry ${entry.name} was deleted: ${messageOf(error)}.`);
      await this.#delete(entry.name);
      return false;
    }
  }

  /** Saves the sequence's state as a new entry; evicts the least recently used over the budget. */
  async save(sequence: LlamaContextSequence): Promise<boolean> {
    const tokens = [...sequence.contextTokens];
    const name = createHash("sha256")
      .update(this.#identity)
      .update(new Uint8Array(Uint32Array.from(tokens).buffer))
      .digest("hex");
    if (this.#entries.has(name)) return false;
    const statePath = join(this.folder, `${name}.state`);
    const temp = `.tmp-${process.pid}-${this.#nextTemp++}-${name}`;
    try {
      await sequence.saveStateToFile(join(this.folder, `${temp}.state`));
      const bytes = await readFile(join(this.folder, `${temp}.state`));
      const meta: EntryMeta = {
        version: formatVersion,
        identity: this.#identity,
        tokens,
        stateBytes: bytes.length,
        stateSha256: createHash("sha256").update(bytes).digest("hex"),
      };
      await rename(join(this.folder, `${temp}.state`), statePath);
      await writeFile(join(this.folder, `${temp}.json`), JSON.stringify(meta));
      await rename(join(this.folder, `${temp}.json`), join(this.folder, `${name}.json`));
      const entry: Entry = {
        name,
        tokens,
        bytes: meta.stateBytes,
        sha256: meta.stateSha256,
        usedMs: 0,
        isVerified: true,
      };
      this.#entries.set(name, entry);
      await this.#touch(entry);
      await this.#evictOverBudget(name);
      return this.#entries.has(name);
    } catch (error) {
      await rm(join(this.folder, `${temp}.state`), { force: true });
      await rm(join(this.folder, `${temp}.json`), { force: true });
      this.#log("warn", `Saving a prompt cache entry in ${this.folder} failed: ${messageOf(error)}.`);
      return false;
    }
  }

  #best(tokens: readonly Token[]): { entry: Entry; shared: number } | undefined {
    let best: { entry: Entry; shared: number } | undefined;
    for (const entry of this.#entries.values()) {
      // At least the last prompt token is always evaluated (it yields the first new token's logits).
      const shared = Math.min(sharedPrefixLength(entry.tokens, tokens), tokens.length - 1);
      if (shared >= minPrefixTokens && (best === undefined || shared > best.shared)) best = { entry, shared };
    }
    return best;
  }

  /** Reads every entry's .json; deletes what is incomplete, corrupt or of another identity. */
  #index(): void {
    const files = readdirSync(this.folder);
    const names = new Set(files.filter((file) => file.endsWith(".json")).map((file) => file.slice(0, -5)));
    for (const file of files) {
      const name = file.replace(/\.(json|state)$/, "");
      const isEntryFile = !file.startsWith(".tmp-") && (file.endsWith(".json") || file.endsWith(".state"));
      if (!isEntryFile || !names.has(name)) rmSync(join(this.folder, file), { force: true, recursive: true });
    }
    for (const name of names) {
      const entry = this.#readEntry(name);
      if (entry === undefined) {
        this.#log(
          "warn",
          `Prompt cache entry ${name} in ${this.folder} is corrupt or foreign; it was deleted.`,
        );
        rmSync(join(this.folder, `${name}.json`), { force: true });
        rmSync(join(this.folder, `${name}.state`), { force: true });
      } else {
        this.#entries.set(name, entry);
      }
    }
  }

  #readEntry(name: string): Entry | undefined {
    try {
      const meta = JSON.parse(readFileSync(join(this.folder, `${name}.json`), "utf8")) as Partial<EntryMeta>;
      const state = statSync(join(this.folder, `${name}.state`));
      const isValid =
        meta.version === formatVersion &&
        meta.identity === this.#identity &&
        Array.isArray(meta.tokens) &&
        meta.tokens.every((token) => Number.isInteger(token) && token >= 0) &&
        meta.stateBytes === state.size &&
        typeof meta.stateSha256 === "string" &&
        /^[0-9a-f]{64}$/.test(meta.stateSha256);
      if (!isValid) return undefined;
      return {
        name,
        tokens: meta.tokens as Token[],
        bytes: state.size,
        sha256: meta.stateSha256!,
        usedMs: state.mtimeMs,
        isVerified: false,
      };
    } catch {
      return undefined;
    }
  }

  async #touch(entry: Entry): Promise<void> {
    entry.usedMs = this.#time.wallNow();
    const when = new Date(entry.usedMs);
    await utimes(join(this.folder, `${entry.name}.state`), when, when).catch(() => undefined);
  }

  async #delete(name: string): Promise<void> {
    this.#entries.delete(name);
    await rm(join(this.folder, `${name}.json`), { force: true });
    await rm(join(this.folder, `${name}.state`), { force: true });
  }

  async #evictOverBudget(keep: string): Promise<void> {
    const byAge = [...this.#entries.values()].sort((a, b) => a.usedMs - b.usedMs);
    let total = this.totalBytes;
    for (const entry of byAge) {
      if (total <= this.#maxBytes) return;
      if (entry.name === keep && byAge.length > 1) continue;
      total -= entry.bytes;
      await this.#delete(entry.name);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

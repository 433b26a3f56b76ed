/**
 * One generation as its origin node (the node holding the client connection) follows it: queued
 * in BullMQ until a worker claims it, then streamed from the running node; when that node is
 * lost mid-stream, back to waiting for the next claim with the resume state so far (the token
 * ids already sent), or a clear error when the text sent cannot be resumed exactly.
 */
import {
  AppError,
  type GenerateRequest,
  type MonotonicMs,
  type ResumeState,
  type StreamEvent,
  type TimePort,
} from "../core/index.js";
import type { ClaimMessage } from "./wire.js";

export class OriginRequest {
  readonly request: GenerateRequest;
  readonly enqueuedMs: MonotonicMs;
  state: "queued" | "running" = "queued";
  /** BullMQ priority number now (aging lowers it). */
  bullPriority: number;
  lastAgedMs: MonotonicMs;
  runningOn: string | undefined;
  /** This origin set the cluster-wide `rawrxd:request:<id>` key (and deletes it at the end). */
  holdsRequestKey = false;
  /** Aborts on the client's signal or a cluster-wide cancel. */
  readonly controller = new AbortController();
  readonly #claims: ClaimMessage[] = [];
  #wake: (() => void) | undefined;
  /** What the client has been sent: enough to resume exactly elsewhere, or why not. */
  readonly #tokenIds: number[] = [];
  #sentOutput = false;
  #unresumableBecause: string | undefined;

  constructor(request: GenerateRequest, bullPriority: number, time: TimePort) {
    this.request = request;
    this.bullPriority = bullPriority;
    this.enqueuedMs = time.monotonicNow();
    this.lastAgedMs = this.enqueuedMs;
  }

  /** A worker claimed the job (ignored while a run is streaming). */
  claimed(claim: ClaimMessage): void {
    if (this.state === "running") return;
    this.#claims.push(claim);
    this.wake();
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  get hasClaim(): boolean {
    return this.#claims.length > 0;
  }

  takeClaim(): ClaimMessage | undefined {
    return this.#claims.shift();
  }

  /** Resolves on a claim, an abort, or after `ms` (the caller's periodic checks). */
  waitForClaim(time: TimePort, ms: number): Promise<void> {
    if (this.#claims.length > 0 || this.controller.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = time.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        timer.cancel();
        resolve();
      };
    });
  }

  /** Records an event the client is about to get. */
  sent(event: StreamEvent): void {
    if (event.type === "text-delta") {
      if (event.text.length > 0 || event.tokenCount > 0) this.#sentOutput = true;
      // The engine's token ids (when it sends them) let another node continue exactly.
      const ids = (event as { tokenIds?: unknown }).tokenIds;
      if (Array.isArray(ids)) this.#tokenIds.push(...(ids as number[]));
      else if (event.tokenCount > 0)
        this.#unresumableBecause ??= "the engine did not send the token ids of the text already sent";
    } else if (event.type === "tool-call" || event.type === "tool-call-delta") {
      this.#sentOutput = true;
      this.#unresumableBecause ??= "tool calls were already sent";
    }
  }

  /** Where another node continues from; throws when the text sent cannot be continued exactly. */
  resumeState(lostNode: string): ResumeState | undefined {
    if (!this.#sentOutput) return undefined;
    if (this.#unresumableBecause !== undefined)
      throw new AppError(
        "runner-crashed",
        `Cluster node "${lostNode}" stopped while generating request "${this.request.id}", and it cannot resume on another node because ${this.#unresumableBecause}; retry the request.`,
      );
    return { generatedTokens: [...this.#tokenIds], heldText: "" };
  }
}

/**
 * Requests the scheduler knows about, by id: what `DELETE /v1/requests/{id}` cancels and what
 * `/v1/queue` reports a position for. Each gets its own abort controller, linked to the
 * client's signal, so an explicit cancel and a disconnect take the same path.
 */
import { AppError, type MonotonicMs, type Priority } from "../core/index.js";
import type { ModelRunner } from "../engine/index.js";
import type { RequestState } from "./contract.js";

export interface TrackedRequest {
  id: string;
  model: string;
  priority: Priority;
  state: RequestState;
  enqueuedMs: MonotonicMs;
  controller: AbortController;
  preemptions: number;
  /** The high-priority request that caused the latest preemption. */
  preemptedBy?: string;
  /** The runner generating it now (lendStream asks it); undefined while queued. */
  runner?: ModelRunner | undefined;
}

export class RequestRegistry {
  readonly #requests = new Map<string, TrackedRequest>();

  track(fields: {
    id: string;
    model: string;
    priority: Priority;
    enqueuedMs: MonotonicMs;
    clientSignal: AbortSignal;
  }): { request: TrackedRequest; untrack: () => void } {
    if (this.#requests.has(fields.id)) {
      throw new AppError(
        "bad-request",
        `Request id "${fields.id}" is already in use by a running request; send a unique X-Request-Id or none.`,
      );
    }
    const controller = new AbortController();
    const onClientAbort = (): void => controller.abort();
    if (fields.clientSignal.aborted) controller.abort();
    else fields.clientSignal.addEventListener("abort", onClientAbort, { once: true });
    const request: TrackedRequest = {
      id: fields.id,
      model: fields.model,
      priority: fields.priority,
      state: "admitting",
      enqueuedMs: fields.enqueuedMs,
      controller,
      preemptions: 0,
    };
    this.#requests.set(fields.id, request);
    return {
      request,
      untrack: () => {
        fields.clientSignal.removeEventListener("abort", onClientAbort);
        if (this.#requests.get(fields.id) === request) this.#requests.delete(fields.id);
      },
    };
  }

  get(id: string): TrackedRequest | undefined {
    return this.#requests.get(id);
  }

  values(): IterableIterator<TrackedRequest> {
    return this.#requests.values();
  }

  /** Cancels a request in any phase; returns its state then, or undefined when unknown. */
  cancel(id: string): RequestState | undefined {
    const request = this.#requests.get(id);
    if (request === undefined) return undefined;
    request.controller.abort();
    return request.state;
  }
}

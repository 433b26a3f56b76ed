/**
 * Alert delivery to a webhook (`--alert-webhook URL`): a JSON POST per alert, off the serving
 * path. `enqueue` only appends to a bounded queue (the oldest pending alert is dropped when it
 * is full) and returns; one worker sends, each attempt under a deadline, and retries failures
 * (a non-2xx answer, a refused connection, no answer in time) with exponential backoff on the
 * time port. Every outcome (delivered, failed after the last attempt, dropped) is recorded.
 */
import type { Logger, ServerEvents, TimePort } from "../../core/index.js";
import type { SlaStore } from "./sla-store.js";

export type SlaAlert = ServerEvents["sla-alert"];

/** POSTs `body` as JSON; resolves to the HTTP status. Default: fetch. */
export type PostJson = (url: string, body: string, signal: AbortSignal) => Promise<number>;

export interface WebhookOptions {
  url: string;
  time: TimePort;
  logger: Logger;
  store: SlaStore | undefined;
  post?: PostJson;
  /** Pending alerts kept; default 100. */
  maxQueued?: number;
  /** Attempts per alert; default 5. */
  maxAttempts?: number;
  /** Deadline of one attempt; default 5 s. */
  attemptTimeoutMs?: number;
  /** First retry delay, doubled each time up to 60 s; default 1 s. */
  backoffMs?: number;
}

interface Pending {
  alert: SlaAlert;
  body: string;
  deliveryId: number | undefined;
}

const fetchPost: PostJson = async (url, body, signal) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "rawrxd-sla" },
    body,
    signal,
  });
  await response.body?.cancel();
  return response.status;
};

export class WebhookSink {
  readonly #options: Required<Omit<WebhookOptions, "store">> & { store: SlaStore | undefined };
  readonly #queue: Pending[] = [];
  #isSending = false;
  #isClosed = false;
  readonly #stopController = new AbortController();
  #idle: Promise<void> = Promise.resolve();

  constructor(options: WebhookOptions) {
    this.#options = {
      post: fetchPost,
      maxQueued: 100,
      maxAttempts: 5,
      attemptTimeoutMs: 5_000,
      backoffMs: 1_000,
      ...options,
    };
  }

  /** Queues one alert; never waits. */
  enqueue(alert: SlaAlert): void {
    if (this.#isClosed) return;
    const body = JSON.stringify({ source: "rawrxd", ...alert, at: new Date(alert.atMs).toISOString() });
    const deliveryId = this.#options.store?.addDelivery({
      createdMs: this.#options.time.wallNow(),
      alert: alert.alert,
      severity: alert.severity,
      sink: "webhook",
      body,
    });
    if (this.#queue.length >= this.#options.maxQueued) {
      const dropped = this.#queue.shift()!;
      this.#record(dropped, { outcome: "dropped", attempts: 0, lastError: "queue full" });
      this.#options.logger.warn("Alert dropped: the webhook queue is full", { alert: dropped.alert.alert });
    }
    this.#queue.push({ alert, body, deliveryId });
    if (!this.#isSending) this.#idle = this.#drain();
  }

  /** Pending alerts (not counting one being sent). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.#idle;
  }

  /** Stops retrying; alerts still pending are recorded as failed. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#stopController.abort();
  }

  async #drain(): Promise<void> {
    this.#isSending = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift())
        await this.#deliver(next);
    } finally {
      this.#isSending = false;
    }
  }

  async #deliver(pending: Pending): Promise<void> {
    const { time, maxAttempts } = this.#options;
    let lastError = "";
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      if (this.#isClosed) {
        this.#record(pending, { outcome: "failed", attempts: attempt - 1, lastError: "server stopping" });
        return;
      }
      lastError = await this.#attempt(pending.body);
      if (lastError === "") {
        this.#record(pending, { outcome: "delivered", attempts: attempt });
        return;
      }
      this.#options.logger.warn("Alert webhook attempt failed", {
        alert: pending.alert.alert,
        attempt,
        error: lastError,
      });
      if (attempt < maxAttempts) {
        const delayMs = Math.min(60_000, this.#options.backoffMs * 2 ** (attempt - 1));
        await time.sleep(delayMs, this.#stopController.signal).catch(() => undefined);
      }
    }
    this.#record(pending, { outcome: "failed", attempts: maxAttempts, lastError });
    this.#options.logger.error("Alert could not be delivered to the webhook", {
      alert: pending.alert.alert,
      error: lastError,
    });
  }

  /** One POST under its deadline; "" when delivered, else what went wrong. */
  async #attempt(body: string): Promise<string> {
    const { time, attemptTimeoutMs, url } = this.#options;
    const controller = new AbortController();
    const onStop = (): void => controller.abort();
    this.#stopController.signal.addEventListener("abort", onStop, { once: true });
    let timer: { cancel(): void } | undefined;
    const deadline = new Promise<string>((resolve) => {
      timer = time.setTimeout(() => {
        controller.abort();
        resolve(`no answer within ${attemptTimeoutMs} ms`);
      }, attemptTimeoutMs);
    });
    const sent = this.#options
      .post(url, body, controller.signal)
      .then((status) => (status >= 200 && status < 300 ? "" : `the webhook answered HTTP ${status}`))
      .catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
    try {
      return await Promise.race([sent, deadline]);
    } finally {
      timer?.cancel();
      this.#stopController.signal.removeEventListener("abort", onStop);
    }
  }

  #record(
    pending: Pending,
    result: { outcome: "delivered" | "failed" | "dropped"; attempts: number; lastError?: string },
  ): void {
    if (pending.deliveryId === undefined) return;
    this.#options.store?.updateDelivery(pending.deliveryId, {
      ...result,
      doneMs: this.#options.time.wallNow(),
    });
  }
}

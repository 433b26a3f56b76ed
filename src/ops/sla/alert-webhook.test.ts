import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeTime, silentLogger, type Logger } from "../../core/index.js";
import { Database } from "../../store/index.js";
import { WebhookSink, type SlaAlert } from "./alert-webhook.js";
import { SlaStore } from "./sla-store.js";

const alert = (id: string): SlaAlert => ({
  alert: id,
  severity: "page",
  state: "firing",
  summary: "burning",
  atMs: Date.UTC(2026, 0, 1),
  details: {},
});

/** Resolves once `count()` reaches `n`; `bump()` is called each time it may have changed. */
function counter() {
  let value = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    bump(): void {
      value += 1;
      for (const waiter of waiters.filter((entry) => entry.n <= value)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    reached(n: number): Promise<void> {
      return n <= value ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

/** A logger that counts failed attempts: the backoff sleep starts right after each. */
function attemptLogger() {
  const failures = counter();
  const logger: Logger = {
    ...silentLogger,
    warn: (message) => {
      if (message.startsWith("Alert webhook attempt failed")) failures.bump();
    },
  };
  return { logger, failedAttempts: failures };
}

/** A real webhook on loopback: each request gets the next planned answer ("hang" never answers). */
async function startWebhook(plan: ("hang" | number)[]) {
  const received: unknown[] = [];
  const arrivals = counter();
  const hanging: ServerResponse[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push(JSON.parse(body));
      arrivals.bump();
      const answer = plan.shift() ?? 200;
      if (answer === "hang") hanging.push(response);
      else response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    arrived: (n: number) => arrivals.reached(n),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the alert webhook", () => {
  it("retries a webhook that hangs, then answers 500, until it takes the alert", async () => {
    const webhook = await startWebhook(["hang", 500, 200]);
    cleanups.push(webhook.close);
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const store = new SlaStore(database);
    const time = new FakeTime();
    const { logger, failedAttempts } = attemptLogger();
    const sink = new WebhookSink({
      url: webhook.url,
      time,
      logger,
      store,
      attemptTimeoutMs: 2_000,
      backoffMs: 1_000,
    });
    cleanups.push(() => sink.close());
    sink.enqueue(alert("burn-rate:page-1h"));
    // Attempt 1 hangs: it fails at its 2 s deadline, then waits 1 s.
    await webhook.arrived(1);
    await time.advanceAsync(2_000);
    await failedAttempts.reached(1);
    await time.advanceAsync(1_000);
    // Attempt 2 gets 500, then waits 2 s.
    await webhook.arrived(2);
    await failedAttempts.reached(2);
    await time.advanceAsync(2_000);
    await webhook.arrived(3);
    await sink.whenIdle();
    expect(webhook.received[2]).toMatchObject({
      source: "rawrxd",
      alert: "burn-rate:page-1h",
      state: "firing",
    });
    expect(store.deliveries(10)).toMatchObject([
      { alert: "burn-rate:page-1h", outcome: "delivered", attempts: 3 },
    ]);
  });

  it("never blocks the caller: enqueue returns at once and the queue stays bounded", async () => {
    const webhook = await startWebhook(Array.from({ length: 20 }, () => "hang" as const));
    cleanups.push(webhook.close);
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const store = new SlaStore(database);
    const time = new FakeTime();
    const sink = new WebhookSink({ url: webhook.url, time, logger: silentLogger, store, maxQueued: 3 });
    cleanups.push(() => sink.close());
    for (let index = 0; index < 10; index += 1) sink.enqueue(alert(`incident:${index}`));
    // One is being sent, 3 wait, 6 were dropped (the oldest first), all synchronously.
    expect(sink.queued).toBe(3);
    const outcomes = store.deliveries(20).map((delivery) => delivery.outcome);
    expect(outcomes.filter((outcome) => outcome === "dropped")).toHaveLength(6);
    expect(outcomes.filter((outcome) => outcome === "pending")).toHaveLength(4);
    sink.close();
    await time.advanceAsync(5_000);
    await sink.whenIdle();
  });

  it("records a failure after the last attempt", async () => {
    const webhook = await startWebhook([500, 500]);
    cleanups.push(webhook.close);
    const database = Database.open({ path: ":memory:" });
    cleanups.push(() => database.close());
    const store = new SlaStore(database);
    const time = new FakeTime();
    const { logger, failedAttempts } = attemptLogger();
    const sink = new WebhookSink({
      url: webhook.url,
      time,
      logger,
      store,
      maxAttempts: 2,
      backoffMs: 500,
    });
    sink.enqueue(alert("audit"));
    await failedAttempts.reached(1);
    await time.advanceAsync(500);
    await sink.whenIdle();
    expect(store.deliveries(1)).toMatchObject([
      { outcome: "failed", attempts: 2, lastError: "the webhook answered HTTP 500" },
    ]);
  });
});

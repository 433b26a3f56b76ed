/**
 * The queue over HTTP: X-Priority and the body's priority, /v1/queue and /v1/queue/{id},
 * DELETE /v1/requests/{id} in each phase, and request-id collisions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf, postJson, sleep, startTestServer, waitFor, type Json, type TestServer } from "./helpers.js";

describe("queue visibility and cancellation", () => {
  let test: TestServer;
  let url: string;

  beforeAll(async () => {
    test = await startTestServer({
      models: { busy: { reply: "a b c d e f g h i j", tokenDelayMs: 40 }, other: { reply: "fine" } },
      // Preemption would let the high request take the low one's sequence: tested in the scheduler and model tests.
      flags: { parallel: "1", "no-preemption": "true" },
    });
    url = test.url;
  });
  afterAll(async () => test.dispose());

  const chat = (id: string, priority?: string, model = "busy") =>
    postJson(
      `${url}/v1/chat/completions`,
      { model, messages: [{ role: "user", content: "go" }] },
      { headers: { "x-request-id": id, ...(priority === undefined ? {} : { "x-priority": priority }) } },
    );

  const state = (id: string) =>
    test.server.queue.snapshot().requests.find((request) => request.id === id)?.state;

  it("reports depth, running and oldest wait per model and priority, and a request's position", async () => {
    const running = chat("q-run", "low");
    await waitFor(() => state("q-run") === "running", "q-run to run");
    const waitingNormal = chat("q-normal", "normal");
    const waitingHigh = chat("q-high", "high");
    await waitFor(() => state("q-normal") === "queued" && state("q-high") === "queued", "both to queue");
    await sleep(25);
    const queue = await bodyOf(await fetch(`${url}/v1/queue`));
    const busy = (queue.models as { model: string }[]).find((model) => model.model === "busy") as Json;
    expect(queue.policy).toBe("priority");
    expect(busy.sequences).toEqual({ total: 1, active: 1 });
    expect(busy.priorities.low).toMatchObject({ running: 1, queued: 0 });
    expect(busy.priorities.normal.queued).toBe(1);
    expect(busy.priorities.high.queued).toBe(1);
    expect(busy.priorities.high.oldest_wait_ms).toBeGreaterThanOrEqual(20);

    const high = await bodyOf(await fetch(`${url}/v1/queue/q-high`));
    const normal = await bodyOf(await fetch(`${url}/v1/queue/q-normal`));
    expect(high).toMatchObject({
      id: "q-high",
      model: "busy",
      priority: "high",
      state: "queued",
      position: 1,
    });
    expect(normal).toMatchObject({ position: 2 });
    expect((await fetch(`${url}/v1/queue/nope`)).status).toBe(404);
    await Promise.all([running, waitingNormal, waitingHigh]);
  });

  it("DELETE cancels a queued request (its client gets 499) and a generating one", async () => {
    const running = chat("d-run");
    await waitFor(() => state("d-run") === "running", "d-run to run");
    const queued = chat("d-queued");
    await waitFor(() => state("d-queued") === "queued", "d-queued to queue");

    const deletedQueued = await fetch(`${url}/v1/requests/d-queued`, { method: "DELETE" });
    expect(await bodyOf(deletedQueued)).toEqual({ id: "d-queued", cancelled: true, state: "queued" });
    const queuedResponse = await queued;
    expect(queuedResponse.status).toBe(499);
    expect((await bodyOf(queuedResponse)).error.code).toBe("cancelled");

    const deletedRunning = await fetch(`${url}/v1/requests/d-run`, { method: "DELETE" });
    expect((await bodyOf(deletedRunning)).state).toBe("running");
    // Cut short is not complete: the client reads the cancellation, not finish_reason "stop".
    const runningResponse = await running;
    expect(runningResponse.status).toBe(499);
    expect((await bodyOf(runningResponse)).error.message).toMatch(/d-run was cancelled \(DELETE/);
    expect((await fetch(`${url}/v1/requests/d-run`, { method: "DELETE" })).status).toBe(404);
    await waitFor(
      () => test.server.queue.snapshot().loaded.find((model) => model.name === "busy")?.active === 0,
      "the sequence to be free",
    );
  });

  it("a stream cancelled by DELETE ends with a cancelled error in each dialect, never a normal finish", async () => {
    for (const [path, id, body] of [
      [
        "/v1/chat/completions",
        "s-openai",
        { model: "busy", stream: true, messages: [{ role: "user", content: "go" }] },
      ],
      ["/api/generate", "s-ollama", { model: "busy", prompt: "go" }],
    ] as const) {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": id },
        body: JSON.stringify(body),
      });
      const reader = response.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value as Uint8Array);
      await waitFor(() => state(id) === "running", `${id} to run`);
      expect((await fetch(`${url}/v1/requests/${id}`, { method: "DELETE" })).status).toBe(200);
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        text += new TextDecoder().decode(chunk.value as Uint8Array);
      expect(text, path).toMatch(new RegExp(`${id} was cancelled \\(DELETE`));
      expect(text, path).not.toContain('"finish_reason":"stop"');
      expect(text, path).not.toContain("[DONE]");
      expect(text, path).not.toContain('"done":true');
    }
  });

  it("the body's priority wins over the header; an invalid header is a 400", async () => {
    const bad = await chat("p-bad", "urgent");
    expect(bad.status).toBe(400);
    expect((await bodyOf(bad)).error.message).toMatch(/X-Priority.*high, normal or low/);
    const running = chat("p-run");
    await waitFor(() => state("p-run") === "running", "p-run to run");
    const viaBody = postJson(
      `${url}/v1/chat/completions`,
      { model: "busy", priority: "high", messages: [{ role: "user", content: "go" }] },
      { headers: { "x-request-id": "p-body", "x-priority": "low" } },
    );
    await waitFor(() => state("p-body") === "queued", "p-body to queue");
    expect((await bodyOf(await fetch(`${url}/v1/queue/p-body`))).priority).toBe("high");
    await Promise.all([running, viaBody]);
  });

  it("a request id already in flight is refused", async () => {
    const first = chat("dup");
    await waitFor(() => state("dup") !== undefined, "dup to be admitted");
    const second = await chat("dup");
    expect(second.status).toBe(400);
    expect((await bodyOf(second)).error.message).toMatch(/already in use/);
    expect((await first).status).toBe(200);
  });
});

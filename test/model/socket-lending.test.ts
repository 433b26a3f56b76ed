/**
 * Lending the client's socket to the runner for a stream's text frames (ADR 0056), on the real
 * runner with stories260K: the same bytes as without lending, valid chunked encoding, keep-alive
 * and pipelining on one connection, a client that leaves while lent, and a runner killed while
 * it holds the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Scheduler } from "../../src/scheduler/index.js";
import { waitFor } from "../support/wait-for.js";
import { startModelServer, type ModelTestServer } from "./helpers.js";
import { parseResponses, postRequest, RawConnection, type RawResponse } from "./raw-http.testing.js";

interface LendProbe {
  asked: number;
  accepted: number;
  /** Runs once when a lend is accepted (the runner holds the socket now). */
  onAccepted: (() => void) | undefined;
}

/** Counts the server's lends (the routes call `queue.lendStream` at call time). */
function probeLends(queue: Scheduler): LendProbe {
  const probe: LendProbe = { asked: 0, accepted: 0, onAccepted: undefined };
  const lendStream = queue.lendStream?.bind(queue);
  if (lendStream === undefined) return probe;
  queue.lendStream = async (id, socket, template) => {
    probe.asked += 1;
    const lend = await lendStream(id, socket, template);
    if (lend !== undefined) {
      probe.accepted += 1;
      const onAccepted = probe.onAccepted;
      probe.onAccepted = undefined;
      onAccepted?.();
    }
    return lend;
  };
  return probe;
}

const host = "127.0.0.1";
const completion = {
  model: "stories260K",
  prompt: "Once upon a time",
  max_tokens: 300,
  stream: true,
  temperature: 0,
};
const chat = {
  model: "stories260K",
  messages: [{ role: "user", content: "Tell me a story." }],
  max_tokens: 300,
  stream: true,
  temperature: 0,
  stream_options: { include_usage: true },
};
const ollamaChat = {
  model: "stories260K",
  messages: [{ role: "user", content: "Tell me a story." }],
  stream: true,
  options: { temperature: 0, num_predict: 300 },
};
const ollama = {
  model: "stories260K",
  prompt: "Once upon a time",
  stream: true,
  options: { temperature: 0, num_predict: 300 },
};

/**
 * The body with what differs between two runs of the same request masked: ids, times, and the
 * speculation counts (`--speculative auto` drafts by measured step cost, so how many tokens were
 * drafted depends on timing; the text does not).
 */
function masked(body: string): string {
  return body
    .replace(/req-[A-Za-z0-9_-]+/g, "req-ID")
    .replace(/"(accepted|rejected)_prediction_tokens":\d+/g, '"$1_prediction_tokens":0')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/"created_at":"[^"]+"/g, '"created_at":"T"')
    .replace(/"(\w+_duration)":\d+/g, '"$1":0');
}

async function oneStream(server: ModelTestServer, path: string, body: unknown): Promise<RawResponse> {
  const connection = await RawConnection.open(server.url);
  try {
    connection.send(postRequest(host, path, body));
    const [response] = await connection.responses(1);
    return response!;
  } finally {
    connection.close();
  }
}

describe("socket lending with a real runner", () => {
  let on: ModelTestServer;
  let off: ModelTestServer;
  let lends: LendProbe;
  let lendsOff: LendProbe;

  beforeAll(async () => {
    on = await startModelServer({ "stream-socket-lending": "on" });
    off = await startModelServer({ "stream-socket-lending": "off" });
    lends = probeLends(on.server.queue);
    lendsOff = probeLends(off.server.queue);
  }, 60_000);
  afterAll(async () => {
    await on?.dispose();
    await off?.dispose();
  });

  it.each([
    ["/v1/completions", completion],
    ["/v1/chat/completions", chat],
    ["/api/generate", ollama],
    ["/api/chat", ollamaChat],
  ])(
    "%s streams the same bytes with lending on and off",
    async (path, body) => {
      const acceptedBefore = lends.accepted;
      const lent = await oneStream(on, path, body);
      const plain = await oneStream(off, path, body);
      expect(lent.status).toBe(200);
      expect(masked(lent.body)).toBe(masked(plain.body));
      expect(lent.body.length).toBeGreaterThan(1000);
      if (path.startsWith("/api/")) {
        const lines = lent.body
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(lines.at(-1)?.["done"]).toBe(true);
        expect(lines.at(-1)?.["eval_count"]).toBe(
          JSON.parse(plain.body.trim().split("\n").at(-1)!).eval_count,
        );
      } else {
        expect(lent.body.endsWith("data: [DONE]\n\n")).toBe(true);
        for (const frame of lent.body.split("\n\n").filter((frame) => frame.length > 0)) {
          expect(frame.startsWith("data: ")).toBe(true);
          if (frame !== "data: [DONE]") JSON.parse(frame.slice("data: ".length));
        }
      }
      expect(lends.accepted).toBeGreaterThan(acceptedBefore);
      expect(lendsOff.asked).toBe(0);
    },
    30_000,
  );

  it("serves three streams one after another on one keep-alive connection", async () => {
    const connection = await RawConnection.open(on.url);
    try {
      const acceptedBefore = lends.accepted;
      for (let index = 1; index <= 3; index++) {
        connection.send(postRequest(host, "/v1/completions", completion));
        const responses = await connection.responses(index);
        expect(responses[index - 1]!.body.endsWith("data: [DONE]\n\n")).toBe(true);
      }
      expect(lends.accepted).toBeGreaterThanOrEqual(acceptedBefore + 3);
      expect(connection.isClosed).toBe(false);
    } finally {
      connection.close();
    }
  }, 30_000);

  it("ends one-token streams whose end overtakes the lend", async () => {
    const connection = await RawConnection.open(on.url);
    try {
      for (let index = 1; index <= 5; index++) {
        connection.send(postRequest(host, "/v1/completions", { ...completion, max_tokens: 1 }));
        const responses = await connection.responses(index, 5000);
        expect(responses[index - 1]!.body.endsWith("data: [DONE]\n\n")).toBe(true);
      }
    } finally {
      connection.close();
    }
  }, 30_000);

  it("does not lose a request sent on the connection while the runner holds it", async () => {
    const connection = await RawConnection.open(on.url);
    try {
      // The second request is written the moment the first's socket is lent: only the main
      // process may read it (the runner's copy of the descriptor never reads).
      lends.onAccepted = () =>
        connection.send(postRequest(host, "/v1/completions", { ...completion, max_tokens: 20 }));
      connection.send(postRequest(host, "/v1/completions", completion));
      const [first, second] = await connection.responses(2);
      expect(first!.body.endsWith("data: [DONE]\n\n")).toBe(true);
      expect(second!.status).toBe(200);
      expect(second!.body.endsWith("data: [DONE]\n\n")).toBe(true);
      expect(masked(second!.body)).toBe(
        masked((await oneStream(off, "/v1/completions", { ...completion, max_tokens: 20 })).body),
      );
    } finally {
      lends.onAccepted = undefined;
      connection.close();
    }
  }, 30_000);

  it("cancels the generation and frees its sequence when the client leaves while lent", async () => {
    const connection = await RawConnection.open(on.url);
    const left = new Promise<void>((resolve) => {
      lends.onAccepted = () => {
        connection.close();
        resolve();
      };
    });
    connection.send(postRequest(host, "/v1/completions", { ...completion, max_tokens: 480 }));
    await left;
    await waitFor(() => on.server.queue.snapshot().requests.length === 0, "the request to end", 10_000);
    // Both sequences (--parallel 2) serve again.
    const [a, b] = await Promise.all([
      oneStream(on, "/v1/completions", { ...completion, max_tokens: 20 }),
      oneStream(on, "/v1/completions", { ...completion, max_tokens: 20 }),
    ]);
    expect(a.body.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(b.body.endsWith("data: [DONE]\n\n")).toBe(true);
  }, 30_000);

  it("ends the stream with the runner-crashed error event when the runner dies while it holds the socket; the next request reloads", async () => {
    const pid = on.server.queue.snapshot().loaded[0]?.info.pid;
    expect(pid).toBeGreaterThan(0);
    const connection = await RawConnection.open(on.url);
    lends.onAccepted = () => process.kill(pid!, "SIGKILL");
    connection.send(postRequest(host, "/v1/completions", { ...completion, max_tokens: 480 }));
    // The client reads as fast as the runner writes, so no chunk was partly written (lend-partial):
    // the main process writes the error event after the runner's last whole chunk (issue #15).
    await waitFor(() => parseResponses(connection.raw).length === 1, "the response to end", 10_000);
    const [response] = parseResponses(connection.raw);
    const events = response!.body
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: "))
      .map((frame) => frame.slice("data: ".length));
    const last = JSON.parse(events.at(-1)!) as { error?: { code: string; message: string } };
    expect(last.error?.code).toBe("runner-crashed");
    expect(last.error?.message).toMatch(/SIGKILL.*next request reloads/s);
    expect(connection.isClosed).toBe(false);
    const after = await oneStream(on, "/v1/completions", { ...completion, max_tokens: 20 });
    expect(after.status).toBe(200);
    expect(after.body.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(on.server.queue.snapshot().loaded[0]?.info.pid).not.toBe(pid);
  }, 60_000);
});

/** The CLI's client commands against the real server (FakeEngine): ls, ps with the queue, show, run. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { startTestServer, waitFor, type TestServer } from "./helpers.js";

describe("rawrxd client commands against a running server", () => {
  let test: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: { reply: "the quick brown fox jumps over the lazy dog", tokenDelayMs: 30 } },
      flags: { parallel: "1", "no-preemption": "true" },
    });
    env = { RAWRXD_URL: test.url };
  });
  afterAll(async () => test.dispose());

  it("run streams the reply to stdout", async () => {
    const io = createRecordingIo({ env });
    expect(await main(["run", "alpha", "hello"], io)).toBe(0);
    expect(io.output()).toBe("the quick brown fox jumps over the lazy dog\n");
  });

  it("ps shows sequences in use and the queue per priority", async () => {
    const body = (priority: string) => JSON.stringify({ model: "alpha", prompt: "x", priority });
    const state = (id: string) =>
      test.server.queue.snapshot().requests.find((request) => request.id === id)?.state;
    const post = (id: string, priority: string) =>
      fetch(`${test.url}/api/generate`, {
        method: "POST",
        headers: { "x-request-id": id },
        body: body(priority),
      }).then((response) => response.text());
    const running = post("cli-low", "low");
    await waitFor(() => state("cli-low") === "running", "the low request to run");
    const waiting = post("cli-high", "high");
    await waitFor(() => state("cli-high") === "queued", "the high request to queue");
    const io = createRecordingIo({ env });
    expect(await main(["ps"], io)).toBe(0);
    const lines = io.output().split("\n");
    expect(lines[1]).toMatch(/^alpha\s+\S+ \S+\s+\d+\s+1\/1\s+1\s+/);
    expect(io.output()).toMatch(/Queue: 1 waiting/);
    expect(io.output()).toMatch(
      /alpha\s+ready\s+0 running, 1 queued\s+0 running, 0 queued\s+1 running, 0 queued/,
    );
    await Promise.all([running, waiting]);
  });

  it("ls and show describe the model file", async () => {
    const list = createRecordingIo({ env });
    expect(await main(["ls"], list)).toBe(0);
    expect(list.output()).toMatch(/^NAME\s+SIZE\s+QUANT\s+MODIFIED\nalpha\s+1\.1 MiB\s+F32/);
    const show = createRecordingIo({ env });
    expect(await main(["show", "alpha"], show)).toBe(0);
    expect(show.output()).toMatch(/llama/);
  });
});

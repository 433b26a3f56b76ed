/**
 * A cluster node killed with SIGKILL mid-stream, on the real engine (issue #18): the origin node
 * resumes the request on another node from the token ids already sent, and the client's greedy
 * text equals the uninterrupted text. The victim is a `rawrxd serve` process holding stories260K;
 * the origin runs in this process and holds nothing until the victim dies (then placement has it
 * load the model). The victim is frozen with SIGSTOP right after the client's first chunk, so the
 * kill always lands mid-stream, then killed with SIGKILL.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isAlive,
  killLeftovers,
  startServerProcess,
  type ServerProcess,
} from "../faults/server-process.testing.js";
import { startModelServer, storiesPath, type ModelTestServer } from "../model/helpers.js";
import { RedisTestServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait-for.js";
import { clusterSecret } from "./cluster-nodes.testing.js";

const prompt = "Once upon a time there was a little girl named Lily.";
const maxTokens = 300;

interface Chunk {
  choices: { text: string; finish_reason: string | null }[];
}

/** Streams a greedy completion through `url`; `afterFirstChunk` runs once, right after the first text arrives. */
async function streamText(
  url: string,
  afterFirstChunk?: (textSoFar: string) => Promise<void>,
): Promise<{ text: string; finish: string | null }> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "stories260K",
      prompt,
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
    }),
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let text = "";
  let finish: string | null = null;
  let hook = afterFirstChunk;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    buffered += decoder.decode(chunk.value, { stream: true });
    const events = buffered.split("\n\n");
    buffered = events.pop() ?? "";
    for (const event of events) {
      const data = event.replace(/^data: /, "");
      if (data === "[DONE]" || data === "") continue;
      const parsed = JSON.parse(data) as Chunk & { error?: unknown };
      expect(parsed.error).toBeUndefined();
      text += parsed.choices[0]?.text ?? "";
      finish = parsed.choices[0]?.finish_reason ?? finish;
    }
    if (hook !== undefined && text.length > 0) {
      const run = hook;
      hook = undefined;
      await run(text);
    }
  }
  return { text, finish };
}

describe("a cluster node killed mid-stream (real engine, stories260K)", () => {
  let redis: RedisTestServer;
  let origin: ModelTestServer;
  let victim: ServerProcess;
  let victimHome: string;

  beforeAll(async () => {
    redis = await RedisTestServer.start();
    const flags = { cluster: redis.url, "cluster-secret": clusterSecret };
    origin = await startModelServer({ ...flags, "node-id": "node-origin" });
    victimHome = mkdtempSync(join(tmpdir(), "rawrxd-victim-"));
    const modelsDir = join(victimHome, "models");
    mkdirSync(modelsDir);
    copyFileSync(storiesPath, join(modelsDir, "stories260K.gguf"));
    victim = await startServerProcess(victimHome, modelsDir, [
      ...["--cluster", redis.url, "--cluster-secret", clusterSecret, "--node-id", "node-victim"],
    ]);
    // The victim loads the model (a local preload); the origin then sees it in the victim's advert.
    await (
      await fetch(`${victim.url}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "stories260K", prompt: "" }),
      })
    ).text();
    await waitFor(
      async () => {
        const body = (await (await fetch(`${origin.url}/v1/queue`)).json()) as {
          nodes?: { nodeId: string; models: { name: string; state: string }[] }[];
        };
        const advert = body.nodes?.find((node) => node.nodeId === "node-victim");
        return advert?.models.some((model) => model.name === "stories260K" && model.state === "ready") ===
          true
          ? true
          : undefined;
      },
      "the victim's advert holding stories260K",
      30_000,
    );
  });

  afterAll(async () => {
    if (victim !== undefined && isAlive(victim.pid)) await victim.kill().catch(() => undefined);
    killLeftovers();
    await origin?.dispose();
    await redis?.dispose();
    if (victimHome !== undefined) rmSync(victimHome, { recursive: true, force: true });
  });

  it("continues on another node with exactly the uninterrupted greedy text", async () => {
    const uninterrupted = await streamText(origin.url);
    expect(uninterrupted.text.length).toBeGreaterThan(200);
    let beforeKill = "";
    const interrupted = await streamText(origin.url, async (textSoFar) => {
      beforeKill = textSoFar;
      process.kill(victim.pid, "SIGSTOP");
      process.kill(victim.pid, "SIGKILL");
      await victim.kill().catch(() => undefined);
    });
    // Cut mid-stream: the client had a start of the text, the rest came from the other node.
    expect(beforeKill.length).toBeGreaterThan(0);
    expect(beforeKill.length).toBeLessThan(uninterrupted.text.length / 2);
    expect(interrupted.text).toBe(uninterrupted.text);
    expect(interrupted.finish).toBe(uninterrupted.finish);
    // The origin loaded the model to take the request over.
    const loaded = (await (await fetch(`${origin.url}/api/ps`)).json()) as { models: { name: string }[] };
    expect(loaded.models.map((model) => model.name)).toContain("stories260K");
  });
});

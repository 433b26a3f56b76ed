/**
 * A node killed with SIGKILL (issue #18): a request it had claimed but not yet answered runs on
 * another node and the client gets the whole reply; one it was generating continues on another
 * node from the token ids already sent (FakeEngine: word indexes). Without token ids the stream
 * ends with a clear error event instead (src/cluster/origin-request.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, waitFor } from "../e2e/helpers.js";
import {
  clusterSecret,
  startProcessNode,
  startTestCluster,
  type ProcessNode,
  type TestCluster,
} from "./cluster-nodes.testing.js";

const reply = "one two three four five";

describe("a cluster node killed with SIGKILL", () => {
  let cluster: TestCluster;
  const processes: ProcessNode[] = [];
  beforeAll(async () => {
    cluster = await startTestCluster({
      nodes: 2,
      models: { alpha: { reply, tokenDelayMs: 20 }, beta: { reply, tokenDelayMs: 20 } },
    });
  });
  afterAll(async () => {
    for (const node of processes) await node.kill("SIGKILL");
    await cluster?.dispose();
  });

  /** A node in its own process holding `model` (slow tokens), seen by node a. */
  async function startVictim(nodeId: string, model: string, tokenDelayMs: number): Promise<ProcessNode> {
    const victim = await startProcessNode({
      models: { [model]: { reply, tokenDelayMs } },
      flags: { cluster: cluster.redis.url, "node-id": nodeId, "cluster-secret": clusterSecret },
    });
    processes.push(victim);
    await (await postJson(`${victim.url}/api/generate`, { model, prompt: "" })).text();
    await waitFor(
      async () => {
        const body = (await (await fetch(`${cluster.nodes[0]!.url}/v1/queue`)).json()) as {
          nodes: { nodeId: string; models: { name: string }[] }[];
        };
        const advert = body.nodes.find((entry) => entry.nodeId === nodeId);
        return advert?.models.some((entry) => entry.name === model) === true ? true : undefined;
      },
      `${nodeId}'s advert`,
      10_000,
    );
    return victim;
  }

  const stateOn = async (id: string): Promise<string | undefined> =>
    ((await (await fetch(`${cluster.nodes[0]!.url}/v1/queue/${id}`)).json()) as { state?: string }).state;

  it("runs a claimed request elsewhere when its node dies before the first token", async () => {
    const victim = await startVictim("node-victim-1", "alpha", 60_000);
    const response = postJson(
      `${cluster.nodes[0]!.url}/api/generate`,
      { model: "alpha", prompt: "hi" },
      { headers: { "x-request-id": "k1" } },
    );
    await waitFor(async () => ((await stateOn("k1")) === "running" ? true : undefined), "k1 claimed", 10_000);
    await victim.kill("SIGKILL");
    const text = await (await response).text();
    const lines = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { response?: string; done?: boolean });
    expect(lines.map((line) => line.response ?? "").join("")).toBe(reply);
    expect(lines.at(-1)?.done).toBe(true);
  });

  it("continues a stream cut mid-generation on another node from the token ids already sent", async () => {
    const victim = await startVictim("node-victim-2", "beta", 400);
    const response = await postJson(
      `${cluster.nodes[0]!.url}/api/generate`,
      { model: "beta", prompt: "hi" },
      { headers: { "x-request-id": "k2" } },
    );
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    expect(text).toContain('"response":"one"');
    await victim.kill("SIGKILL");
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    const lines = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { response?: string; done?: boolean; error?: string });
    // A pause, not an error: the other node continues after the words already sent.
    expect(lines.map((line) => line.response ?? "").join("")).toBe(reply);
    expect(lines.at(-1)?.done).toBe(true);
  });

  // The same on the real engine with exact greedy text: cluster-node-killed-real.test.ts.
});

/**
 * A node killed with SIGKILL (issue #18): a request it had claimed but not yet answered runs on
 * another node and the client gets the whole reply; one it was generating ends with a clear
 * error event (never a hang) while the engine sends no token ids to resume from.
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
    await waitFor(async () => {
      const body = (await (await fetch(`${cluster.nodes[0]!.url}/v1/queue`)).json()) as {
        nodes: { node_id: string; models: { model: string }[] }[];
      };
      const advert = body.nodes.find((entry) => entry.node_id === nodeId);
      return advert?.models.some((entry) => entry.model === model) === true ? true : undefined;
    }, `${nodeId}'s advert`);
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

  it("ends a stream cut mid-generation with a clear error event, not a hang, without token ids", async () => {
    const victim = await startVictim("node-victim-2", "beta", 400);
    const response = await postJson(
      `${cluster.nodes[0]!.url}/api/generate`,
      { model: "beta", prompt: "hi" },
      { headers: { "x-request-id": "k2" } },
    );
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"response":"one"');
    await victim.kill("SIGKILL");
    let rest = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += new TextDecoder().decode(chunk.value);
    }
    const last = JSON.parse(rest.trim().split("\n").at(-1)!) as { error?: string };
    expect(last.error).toMatch(/node-victim-2.*cannot resume on another node/);
  });

  // Exact greedy continuation on another node needs the engine's token ids on text-delta events
  // (H4, src/engine); with them, the real engine on stories260K at temperature 0 gives the
  // uninterrupted text. Enable once `tokenIds` is on the engine's text-delta events.
  it.todo("continues a stream cut mid-generation exactly on another node (real engine, token ids)");
});

/**
 * Three nodes on one redis-server act as one server (issue #18): a request through any node
 * runs on the node holding its model and streams back in both dialects; /v1/queue shows every
 * node; the internal run route refuses a missing or wrong secret.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatContent, postJson, readNdjson, readSse, sseJson, waitFor } from "../e2e/helpers.js";
import { clusterSecret, startsOn, startTestCluster, type TestCluster } from "./cluster-nodes.testing.js";

const reply = "one two three four five six";

interface QueueBody {
  node_id: string;
  nodes: { nodeId: string; models: { name: string }[] }[];
}

async function queueOf(url: string): Promise<QueueBody> {
  return (await (await fetch(`${url}/v1/queue`)).json()) as QueueBody;
}

describe("a three-node cluster", () => {
  let cluster: TestCluster;
  /** Node b holds the model (placement would pick node a for a load: most free memory, then id). */
  let startedOnB: string[];
  beforeAll(async () => {
    cluster = await startTestCluster({ nodes: 3, models: { alpha: { reply } } });
    startedOnB = startsOn(cluster.nodes[1]!);
    const loaded = await postJson(`${cluster.nodes[1]!.url}/api/generate`, { model: "alpha", prompt: "" });
    expect(loaded.status).toBe(200);
    await loaded.text();
    // Every node has read node b's advert naming the model.
    for (const node of cluster.nodes)
      await waitFor(
        async () => {
          const body = await queueOf(node.url);
          const b = body.nodes.find((entry) => entry.nodeId === "node-b");
          return b?.models.length === 1 ? true : undefined;
        },
        "node b's advert",
        10_000,
      );
  });
  afterAll(() => cluster?.dispose());

  it("streams an OpenAI chat completion sent to another node from the node holding the model", async () => {
    const response = await postJson(
      `${cluster.nodes[2]!.url}/v1/chat/completions`,
      { model: "alpha", stream: true, messages: [{ role: "user", content: "hi" }] },
      { headers: { "x-request-id": "chat-through-c" } },
    );
    expect(response.status).toBe(200);
    const chunks = sseJson(await readSse(response));
    expect(chatContent(chunks)).toBe(reply);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(startedOnB).toContain("chat-through-c");
  });

  it("answers Ollama /api/generate through another node, streaming and not", async () => {
    const streamed = await postJson(
      `${cluster.nodes[0]!.url}/api/generate`,
      { model: "alpha", prompt: "hi" },
      { headers: { "x-request-id": "ollama-through-a" } },
    );
    expect(streamed.status).toBe(200);
    const lines = await readNdjson(streamed);
    expect(lines.map((line: { response: string }) => line.response).join("")).toBe(reply);
    expect(lines.at(-1).done).toBe(true);
    const whole = await postJson(`${cluster.nodes[0]!.url}/api/generate`, {
      model: "alpha",
      prompt: "hi",
      stream: false,
    });
    expect(((await whole.json()) as { response: string }).response).toBe(reply);
    expect(startedOnB).toContain("ollama-through-a");
  });

  it("shows every node in /v1/queue", async () => {
    const body = await queueOf(cluster.nodes[1]!.url);
    expect(body.node_id).toBe("node-b");
    expect(body.nodes.map((node) => node.nodeId)).toEqual(["node-a", "node-b", "node-c"]);
    const b = body.nodes.find((node) => node.nodeId === "node-b");
    expect(b?.models.map((model) => model.name)).toEqual(["alpha"]);
  });

  it("answers an unknown model with 404 as one node does", async () => {
    const response = await postJson(`${cluster.nodes[2]!.url}/v1/chat/completions`, {
      model: "nope",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("model-not-found");
  });

  it("refuses the internal run route without the right secret", async () => {
    const url = `${cluster.nodes[0]!.url}/internal/cluster/requests/nope/run`;
    expect((await postJson(url, {})).status).toBe(401);
    expect((await postJson(url, {}, { headers: { "x-rawrxd-cluster-secret": "wrong" } })).status).toBe(401);
    const right = await postJson(url, {}, { headers: { "x-rawrxd-cluster-secret": clusterSecret } });
    expect(right.status).toBe(404);
    expect(await right.text()).not.toContain("/");
  });
});

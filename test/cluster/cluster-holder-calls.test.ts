/**
 * Embeddings and tokenizer calls in the cluster (ADR 0047): through a node that does not hold
 * the model they run on the node that does (no second load), errors of the call come back as
 * they are, and a model no node holds loads on the node that took the call. Preloads act on the
 * node they are sent to. Two nodes on a real redis-server, FakeEngine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sleep, waitFor } from "../e2e/helpers.js";
import { startTestCluster, type TestCluster } from "./cluster-nodes.testing.js";

type Node = TestCluster["nodes"][number];

const loadedOn = (node: Node): string[] => node.server.queue.snapshot().loaded.map((model) => model.name);

async function json<T>(response: Promise<Response>): Promise<{ status: number; body: T }> {
  const answer = await response;
  return { status: answer.status, body: (await answer.json()) as T };
}

describe("cluster calls on the node holding the model", () => {
  let cluster: TestCluster;
  let a: Node;
  let b: Node;
  beforeAll(async () => {
    cluster = await startTestCluster({ nodes: 2, models: { alpha: {}, beta: {} } });
    [a, b] = cluster.nodes as [Node, Node];
    // Loads act on the node they are sent to: alpha on node b only.
    const loaded = await postJson(`${b.url}/v1/models/alpha/load`, {});
    expect(loaded.status).toBe(200);
    await waitFor(
      async () => {
        await sleep(20);
        const queue = (await (await fetch(`${a.url}/v1/queue`)).json()) as {
          nodes: { nodeId: string; models: { name: string; state: string }[] }[];
        };
        return queue.nodes.some(
          (node) =>
            node.nodeId === "node-b" &&
            node.models.some((model) => model.name === "alpha" && model.state === "ready"),
        )
          ? true
          : undefined;
      },
      "node b's advert holding alpha",
      10_000,
    );
    expect(loadedOn(a)).toEqual([]);
  });
  afterAll(async () => {
    await cluster?.dispose();
  });

  it("embeds through node a on node b, both dialects, without loading the model on node a", async () => {
    const direct = await json<{ embeddings: number[][] }>(
      postJson(`${b.url}/api/embed`, { model: "alpha", input: ["hello", "two words"] }),
    );
    const ollama = await json<{ embeddings: number[][] }>(
      postJson(`${a.url}/api/embed`, { model: "alpha", input: ["hello", "two words"] }),
    );
    expect(ollama.status).toBe(200);
    expect(ollama.body.embeddings).toEqual(direct.body.embeddings);
    const openai = await json<{ data: { embedding: number[] }[] }>(
      postJson(`${a.url}/v1/embeddings`, { model: "alpha", input: "hello" }),
    );
    expect(openai.status).toBe(200);
    expect(openai.body.data[0]!.embedding).toEqual(direct.body.embeddings[0]);
    expect(loadedOn(a)).toEqual([]);
  });

  it("tokenizes and detokenizes through node a on node b; the holder's errors come back as they are", async () => {
    const tokens = await json<{ tokens: number[] }>(
      postJson(`${a.url}/tokenize`, { model: "alpha", content: "hi", add_special: true }),
    );
    expect(tokens).toEqual({ status: 200, body: { tokens: [1, 104, 105] } });
    const text = await json<{ content: string }>(
      postJson(`${a.url}/detokenize`, { model: "alpha", tokens: [1, 104, 105] }),
    );
    expect(text).toEqual({ status: 200, body: { content: "hi" } });
    const refused = await json<{ error: { code?: string; message: string } | string }>(
      postJson(`${a.url}/detokenize`, { model: "alpha", tokens: [0x110000] }),
    );
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("vocabulary");
    expect(loadedOn(a)).toEqual([]);
  });

  it("the internal calls route refuses a caller without the cluster secret", async () => {
    const call = { kind: "embed", request: { id: "x", model: "alpha", inputs: ["hi"] } };
    const refused = await postJson(`${b.url}/internal/cluster/calls`, call);
    expect(refused.status).toBe(401);
    await refused.text();
  });

  it("a model no node holds loads on the node that took the call", async () => {
    const embedded = await postJson(`${a.url}/api/embed`, { model: "beta", input: "hello" });
    expect(embedded.status).toBe(200);
    await embedded.text();
    expect(loadedOn(a)).toEqual(["beta"]);
    expect(loadedOn(b)).toEqual(["alpha"]);
  });
});

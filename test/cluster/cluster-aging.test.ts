/**
 * Aging across the cluster (issue #18): a low request that has waited two aging steps runs
 * before a normal one submitted later through another node (its origin raised its BullMQ
 * priority one class per --priority-aging).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sleep, waitFor } from "../e2e/helpers.js";
import { startsOn, startTestCluster, type TestCluster } from "./cluster-nodes.testing.js";

const reply = Array.from({ length: 25 }, (_, index) => `w${index}`).join(" ");

describe("aging in the cluster queue", () => {
  let cluster: TestCluster;
  let startedOnB: string[];
  beforeAll(async () => {
    cluster = await startTestCluster({
      nodes: 2,
      models: { alpha: { reply, tokenDelayMs: 200 } },
      flags: { parallel: "1", "priority-aging": "500ms" },
    });
    startedOnB = startsOn(cluster.nodes[1]!);
    await (await postJson(`${cluster.nodes[1]!.url}/api/generate`, { model: "alpha", prompt: "" })).text();
    await waitFor(
      async () => {
        const body = (await (await fetch(`${cluster.nodes[0]!.url}/v1/queue`)).json()) as {
          nodes: { nodeId: string; models: unknown[] }[];
        };
        return body.nodes.find((entry) => entry.nodeId === "node-b")?.models.length === 1 ? true : undefined;
      },
      "node b's advert",
      10_000,
    );
  });
  afterAll(() => cluster?.dispose());

  const send = (
    node: number,
    id: string,
    { priority, maxTokens }: { priority: string; maxTokens?: number },
  ) =>
    postJson(
      `${cluster.nodes[node]!.url}/api/generate`,
      {
        model: "alpha",
        prompt: "hi",
        stream: false,
        ...(maxTokens === undefined ? {} : { options: { num_predict: maxTokens } }),
      },
      { headers: { "x-request-id": id, "x-priority": priority } },
    ).then((response) => response.text());

  it("runs a low request that waited two aging steps before a later normal one", async () => {
    const blocker = send(1, "aging-blocker", { priority: "normal" });
    await waitFor(() => startedOnB.includes("aging-blocker"), "blocker running", 10_000);
    const low = send(0, "aged-low", { priority: "low", maxTokens: 1 });
    // Two steps of 500 ms, tended once a heartbeat (1 s): low → normal → high.
    await sleep(2600);
    const normal = send(1, "later-normal", { priority: "normal", maxTokens: 1 });
    await Promise.all([blocker, low, normal]);
    expect(startedOnB.filter((id) => id !== "aging-blocker" && !id.startsWith("req-"))).toEqual([
      "aged-low",
      "later-normal",
    ]);
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

const ps = { models: [{ name: "alpha", size: 5_000_000, context_length: 512 }] };
const priorityView = { queued: 0, running: 0, oldest_wait_ms: null };
const singleQueue = {
  queued: 0,
  max_queued: 64,
  models: [
    {
      model: "alpha",
      state: "ready",
      priorities: { high: priorityView, normal: priorityView, low: priorityView },
    },
  ],
};
const model = (name: string, active: number, queued: { high: number; normal: number; low: number }) => ({
  name,
  state: "ready",
  sequences: { total: 4, active },
  queued,
  memoryEstimateBytes: 2 * 1024 ** 3,
  averageServiceMs: 120,
  loadMs: 900,
});
const advert = (nodeId: string, models: unknown[], isAccepting = true) => ({
  nodeId,
  url: `http://127.0.0.1:1/${nodeId}`,
  heartbeatAtMs: 0,
  startedAtMs: 0,
  version: "test",
  models,
  memory: { budgetBytes: 16 * 1024 ** 3, usedBytes: 0 },
  isAccepting,
});
const clusterQueue = {
  ...singleQueue,
  nodes: [
    advert("node-b", [
      model("beta", 1, { high: 0, normal: 0, low: 0 }),
      model("alpha", 4, { high: 1, normal: 2, low: 3 }),
    ]),
    advert("node-a", [model("alpha", 2, { high: 0, normal: 0, low: 0 })]),
    advert("node-c", [], false),
  ],
};

let queue: unknown = singleQueue;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const body = request.url === "/api/ps" ? ps : request.url === "/v1/queue" ? queue : undefined;
    response
      .writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" })
      .end(JSON.stringify(body ?? { error: "no route" }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
});

async function runPs(): Promise<string[]> {
  const io = createRecordingIo({ env: { RAWRXD_URL: baseUrl, RAWRXD_HOME: "/nonexistent" } });
  const code = await main(["ps"], io, { time: new FakeTime({ wallMs: 0 }), onInterrupt: () => () => {} });
  expect({ code, stderr: io.errors() }).toEqual({ code: 0, stderr: "" });
  return io.output().split("\n");
}

describe("rawrxd ps on a cluster", () => {
  it("prints one row per node and model with a NODE column when /v1/queue lists nodes", async () => {
    queue = clusterQueue;
    const lines = await runPs();
    expect(lines[0]!.split(/\s{2,}/)).toEqual(["NODE", "NAME", "STATE", "SIZE", "SEQUENCES", "QUEUED"]);
    expect(lines.slice(1, 5).map((line) => line.trim().split(/\s{2,}/))).toEqual([
      ["node-a", "alpha", "ready", "2.0 GiB", "2/4", "0"],
      ["node-b", "alpha", "ready", "2.0 GiB", "4/4", "6"],
      ["node-b", "beta", "ready", "2.0 GiB", "1/4", "0"],
      ["node-c (draining)"],
    ]);
    expect(lines).toContain("Queue: 0 waiting (limit 64)");
  });

  it("prints the single-node table unchanged without nodes", async () => {
    queue = singleQueue;
    const lines = await runPs();
    expect(lines[0]!.split(/\s{2,}/)).toEqual(["NAME", "SIZE", "CONTEXT", "SEQUENCES", "QUEUED", "UNTIL"]);
    expect(
      lines[1]!
        .trim()
        .split(/\s{2,}/)
        .slice(0, 3),
    ).toEqual(["alpha", "4.8 MiB", "512"]);
  });
});

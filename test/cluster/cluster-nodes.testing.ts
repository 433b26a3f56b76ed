/**
 * Cluster test nodes: a real redis-server and RawrXD nodes in-process with FakeEngine, each its
 * own home and models folder, joined with --cluster and a shared secret.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import type { FakeModelBehaviour } from "../../src/engine/index.js";
import { startTestServer, type TestServer } from "../e2e/helpers.js";
import { RedisTestServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait-for.js";

export const clusterSecret = "test-cluster-secret";

export interface TestCluster {
  redis: RedisTestServer;
  nodes: TestServer[];
  dispose(): Promise<void>;
}

export async function startTestCluster(options: {
  nodes: number;
  models: Record<string, FakeModelBehaviour>;
  flags?: Record<string, string>;
}): Promise<TestCluster> {
  const redis = await RedisTestServer.start();
  const nodes: TestServer[] = [];
  const dispose = async (): Promise<void> => {
    for (const node of nodes) await node.dispose().catch(() => undefined);
    await redis.dispose();
  };
  try {
    for (let index = 0; index < options.nodes; index++)
      nodes.push(
        await startTestServer({
          models: options.models,
          flags: {
            cluster: redis.url,
            "node-id": `node-${String.fromCharCode(97 + index)}`,
            "cluster-secret": clusterSecret,
            ...options.flags,
          },
        }),
      );
    await waitFor(
      async () => ((await nodeCount(nodes[0]!)) === options.nodes ? true : undefined),
      "every node in the cluster view",
      10_000,
    );
  } catch (error) {
    await dispose();
    throw error;
  }
  return { redis, nodes, dispose };
}

async function nodeCount(node: TestServer): Promise<number> {
  const body = (await (await fetch(`${node.url}/v1/queue`)).json()) as { nodes?: unknown[] };
  return body.nodes?.length ?? 0;
}

/** Ids of the requests that started on this node, in order. */
export function startsOn(node: TestServer): string[] {
  const started: string[] = [];
  node.server.events.on("request-started", ({ requestId }) => started.push(requestId));
  return started;
}

/** A node in its own process (FakeEngine), for SIGKILL. */
export interface ProcessNode {
  url: string;
  pid: number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startProcessNode(spec: {
  models: Record<string, FakeModelBehaviour>;
  flags: Record<string, string>;
}): Promise<ProcessNode> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/cluster/fake-node-main.testing.ts", JSON.stringify(spec)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const { url, home } = await new Promise<{ url: string; home: string }>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const line = output.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line !== undefined && output.includes("\n"))
        resolve(JSON.parse(line) as { url: string; home: string });
    });
    child.once("exit", (code) => reject(new Error(`the node process exited (${code}) before it listened`)));
  });
  return {
    url,
    pid: child.pid!,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      rmSync(home, { recursive: true, force: true });
    },
  };
}

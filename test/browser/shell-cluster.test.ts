/**
 * The shell's Nodes panel in Chromium. The clustered server is not merged yet, so the shell is
 * served through a small real HTTP front in this test: it passes everything through to a real
 * RawrXD server (FakeEngine) and answers GET /v1/queue with that server's own answer plus a
 * three-node `nodes` snapshot written by hand in the contract's NodeAdvert shape (heartbeats
 * re-aged to now), and GET /v1/sla/status with the real ClusterSla's `cluster` section over the
 * same adverts. Once the cluster runtime is merged, this should start a real three-node cluster
 * instead (the lead's follow-up). A server without the front shows the page unchanged.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeAdvert, NodeModelAdvert } from "../../src/cluster/index.js";
import { systemTime } from "../../src/core/index.js";
import { ClusterSla } from "../../src/ops/index.js";
import { startTestServer, type TestServer } from "../e2e/helpers.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.testing.js";

const gib = 1024 ** 3;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const model = (
  name: string,
  state: NodeModelAdvert["state"],
  [active, ...queued]: number[],
): NodeModelAdvert => ({
  name,
  state,
  memoryEstimateBytes: 2 * gib,
  sequences: { total: state === "loading" ? 0 : 4, active: active! },
  queued: { high: queued[0]!, normal: queued[1]!, low: queued[2]! },
  averageServiceMs: null,
  loadMs: null,
});

/** A three-node snapshot in the contract's NodeAdvert shape; `ageMs` replaces the heartbeat (re-aged per answer). */
const recorded: (Omit<NodeAdvert, "heartbeatAtMs" | "startedAtMs" | "version"> & { ageMs: number })[] = [
  {
    nodeId: "node-1",
    url: "http://10.0.0.1:11434",
    ageMs: 800,
    isAccepting: true,
    memory: { budgetBytes: 8 * gib, usedBytes: 4 * gib },
    models: [model("alpha", "ready", [3, 1, 0, 2]), model("beta", "ready", [0, 0, 0, 0])],
  },
  {
    nodeId: "node-2",
    url: "http://10.0.0.2:11434",
    ageMs: 1200,
    isAccepting: true,
    memory: { budgetBytes: 8 * gib, usedBytes: 2 * gib },
    models: [model("alpha", "loading", [0, 0, 2, 0])],
  },
  {
    nodeId: "node-3",
    url: "http://10.0.0.3:11434",
    ageMs: 40_000,
    isAccepting: false,
    memory: { budgetBytes: 16 * gib, usedBytes: 0 },
    models: [],
  },
];

/** The cluster's own advert type: it must fit the SLA's ClusterAdvert (observe() below). */
function adverts(): NodeAdvert[] {
  const now = systemTime.wallNow();
  return recorded.map(({ ageMs, ...advert }) => ({
    ...advert,
    heartbeatAtMs: now - ageMs,
    startedAtMs: now - 3_600_000,
    version: "recorded",
  }));
}

/** The front: /v1/queue and /v1/sla/status augmented, everything else piped to the real server. */
async function startClusterFront(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const sla = new ClusterSla({
    nodeId: "node-1",
    time: systemTime,
    settings: { intervalMs: 10_000, pinnedModels: ["alpha"] },
  });
  const targetUrl = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? "/";
    const augment =
      incoming.method === "GET" && (path === "/v1/queue" || path === "/v1/sla/status")
        ? (body: Record<string, unknown>) => {
            const nodes = adverts();
            if (path === "/v1/queue") return { ...body, nodes };
            sla.observe(nodes);
            return { ...body, cluster: sla.json() };
          }
        : undefined;
    const forward = httpRequest(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: incoming.method,
        path,
        headers: incoming.headers,
      },
      (answer) => {
        if (augment === undefined || answer.statusCode !== 200) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = JSON.stringify(
            augment(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>),
          );
          const headers = { ...answer.headers, "content-length": String(Buffer.byteLength(body)) };
          delete headers["content-encoding"];
          outgoing.writeHead(200, headers);
          outgoing.end(body);
        });
      },
    );
    forward.on("error", () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** axe-core on the Nodes panel, through the DevTools protocol (which the page's CSP does not govern). */
async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const { axe } = globalThis as unknown as {
      axe: {
        run: (
          context: unknown,
          options: unknown,
        ) => Promise<{ violations: { id: string; impact: string }[] }>;
      };
    };
    const outcome = await axe.run("#cluster-nodes", { resultTypes: ["violations"] });
    return outcome.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => violation.id);
  });
}

let test: TestServer;
let front: Awaited<ReturnType<typeof startClusterFront>>;
let browser: TestBrowser;

beforeAll(async () => {
  test = await startTestServer({ models: { alpha: {}, beta: {} } });
  front = await startClusterFront(test.url);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await front?.close();
  await test?.dispose();
});

describe("the shell's Nodes panel", () => {
  it("shows each node and which nodes hold each model when /v1/queue has nodes", async () => {
    const { page, errors } = await browser.page();
    await page.goto(`${front.url}/`);
    await page.locator("#tab-operations").click();
    const panel = page.locator("#cluster-nodes");
    await panel.waitFor();
    const rows = panel.locator("#cluster-node-table tbody tr");
    await expect.poll(() => rows.count()).toBe(3);
    const first = panel.locator("tr[data-node='node-1']");
    expect(await first.locator("td").nth(0).textContent()).toBe("10.0.0.1:11434");
    expect(await first.locator("td").nth(1).textContent()).toBe("yes");
    expect(await first.locator("td").nth(3).textContent()).toBe("4.0 GiB of 8.0 GiB (50 %)");
    expect(await first.locator("li[data-model='alpha']").textContent()).toBe(
      "alpha ready, 3/4 sequences, queued 1 / 0 / 2",
    );
    const draining = panel.locator("tr[data-node='node-3']");
    expect(await draining.getAttribute("data-stale")).toBe("true");
    expect(await draining.locator("td").nth(1).textContent()).toBe("no (draining)");
    expect(await draining.locator("td").nth(2).textContent()).toMatch(/^\d+\.\d s ago \(stale\)$/);
    expect(await panel.locator("#cluster-model-table tr[data-model='alpha'] td").allTextContents()).toEqual([
      "node-1 (ready), node-2 (loading)",
      "3/4",
      "1 / 2 / 2",
    ]);
    // The SLA's cluster section: node-3 is stale and draining, so the cluster is degraded.
    await expect.poll(() => page.locator("#cluster-summary strong").textContent()).toBe("degraded");
    expect(await page.locator("#cluster-summary").textContent()).toMatch(
      /^3 nodes, 2 accepting · cluster degraded: node node-3 down/,
    );
    expect(await draining.locator("td[data-sla]").textContent()).toBe("down");
    expect(errors).toEqual([]);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, "operations-cluster-nodes");
  });

  it("has no serious axe-core violation in the dark scheme either", async () => {
    const { page } = await browser.page({ colorScheme: "dark" });
    await page.goto(`${front.url}/`);
    await page.locator("#tab-operations").click();
    await page.locator("#cluster-nodes tr[data-node='node-3']").waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it("is not there when /v1/queue has no nodes (a single server)", async () => {
    const { page, errors } = await browser.page();
    await page.goto(`${test.url}/`);
    await page.locator("#tab-operations").click();
    // The queue has answered (its summary shows) and brought no nodes.
    await page.getByText(/^0 queued/).waitFor();
    expect(await page.locator("#cluster-nodes").count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

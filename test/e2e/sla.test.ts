/**
 * The SLA monitor on a running server (FakeEngine): live status, incidents, the report, the
 * /metrics gauges, and a runner that keeps crashing raising degraded or down, an incident
 * naming its check, and a burn-rate alert delivered to a real webhook.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postJson, startTestServer, waitFor, type Json, type TestServer } from "./helpers.js";

const servers: TestServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
  for (const close of closers.splice(0)) await close();
});

async function start(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

interface StatusBody {
  state: string;
  checks: { name: string; status: string }[];
  openIncident: { cause: string[] } | null;
  budget: { allowedSeconds: number };
}

async function getJson<T = Json>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** A webhook on loopback that answers 500 to the first POST, then 200; keeps every body. */
async function startWebhook(): Promise<{ url: string; bodies: Json[] }> {
  const bodies: Json[] = [];
  let isFirst = true;
  const server = createServer((request, response: ServerResponse) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      bodies.push(JSON.parse(text));
      response.writeHead(isFirst ? 500 : 200).end();
      isFirst = false;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies };
}

describe("SLA monitor (e2e)", () => {
  it("shows the live status, an empty incident list, this month's report and the /metrics gauges", async () => {
    const server = await start({ flags: { "health-interval": "100ms" } });
    const status = await waitFor(async () => {
      const body = await getJson<StatusBody>(`${server.url}/v1/sla/status`);
      return body.state === "up" ? body : undefined;
    }, "state up");
    expect(status).toMatchObject({ targetPercent: 99.9, openIncident: null, intervalSeconds: 0.1 });
    expect(status.checks.map((check) => check.name)).toEqual(expect.arrayContaining(["front", "disk"]));
    expect(status.budget.allowedSeconds).toBeGreaterThan(2000);
    const incidents = await getJson(`${server.url}/v1/sla/incidents?limit=10`);
    expect(incidents).toEqual({ total: 0, limit: 10, offset: 0, incidents: [] });
    const report = await getJson(`${server.url}/v1/sla/report`);
    expect(report.status).toBe("partial");
    expect(report.availability.observed).toBe(1);
    const csv = await fetch(`${server.url}/v1/sla/report?month=2020-01&format=csv`);
    expect(await csv.text()).toContain("status,no-data");
    const bad = await fetch(`${server.url}/v1/sla/report?month=2020-13`);
    expect(bad.status).toBe(400);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('rawrxd_sla_state{state="up"} 1');
    expect(metrics).toContain("rawrxd_sla_error_budget_remaining_seconds");
  });

  it("a crashing runner beside a healthy one: degraded, an incident naming its check", async () => {
    const server = await start({
      models: { alpha: { crashAfterTokens: 0 }, beta: {} },
      // 500 ms: each check's deadline is the interval, roomy enough on a loaded machine.
      flags: { "health-interval": "500ms", "sla-probe-model": "alpha" },
    });
    // beta loaded and healthy; alpha crashes on every probe.
    const reply = await postJson(`${server.url}/api/generate`, {
      model: "beta",
      prompt: "hi",
      stream: false,
    });
    expect(reply.status).toBe(200);
    const status = await waitFor(
      async () => {
        const body = await getJson<StatusBody>(`${server.url}/v1/sla/status`);
        // The cause gathers every failing check over the incident's rounds.
        const cause = body.openIncident?.cause.join("\n") ?? "";
        return body.state === "degraded" && /^runner:alpha \(fail\): runner crashed/m.test(cause)
          ? body
          : undefined;
      },
      "degraded with an incident naming runner:alpha",
      10_000,
    );
    expect(status.checks.find((check) => check.name === "runner:beta")?.status).toBe("pass");
  });

  it("a runner that keeps crashing: down, an incident, and a burn-rate page delivered to the webhook", async () => {
    const webhook = await startWebhook();
    const server = await start({
      models: { alpha: { crashAfterTokens: 0 } },
      flags: {
        "health-interval": "500ms",
        "sla-probe-model": "alpha",
        // 99.999 %: 14.4 × 0.00001 × 3600 s = 0.52 s of down in 1 h pages.
        "sla-target": "99.999",
        "alert-webhook": webhook.url,
      },
    });
    await waitFor(
      () => webhook.bodies.some((body) => body.alert === "burn-rate:page-1h" && body.state === "firing"),
      "the page-1h alert at the webhook",
      10_000,
    );
    const page = webhook.bodies.find((body) => body.alert === "burn-rate:page-1h");
    expect(page).toMatchObject({ source: "rawrxd", severity: "page" });
    // The first POST got 500 and was retried.
    expect(webhook.bodies[0].alert).toBe(webhook.bodies[1].alert);
    const status = await getJson<StatusBody>(`${server.url}/v1/sla/status`);
    expect(status.state).toBe("down");
    expect(status.openIncident?.cause.join("\n")).toContain("alpha");
    // Serving does not wait on alerting: /health answers at once.
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });

  it("--no-sla: no routes and no records", async () => {
    const server = await start({ flags: { "no-sla": "true" } });
    expect((await fetch(`${server.url}/v1/sla/status`)).status).toBe(404);
    expect(server.server.sla).toBeUndefined();
  });

  it("an audit write failure: degraded, and an audit alert on the event bus", async () => {
    const server = await start({ flags: { "health-interval": "100ms" } });
    const alerts: Json[] = [];
    server.server.events.on("sla-alert", (alert) => alerts.push(alert));
    await waitFor(
      async () => (await getJson<StatusBody>(`${server.url}/v1/sla/status`)).state === "up",
      "up",
    );
    server.server.events.emit("audit-health", { state: "failed", reason: "no space left on device" });
    const status = await waitFor(async () => {
      const body = await getJson<StatusBody>(`${server.url}/v1/sla/status`);
      return body.state === "degraded" ? body : undefined;
    }, "degraded");
    expect(status.checks.find((check) => check.name === "audit")?.status).toBe("fail");
    expect(alerts).toContainEqual(
      expect.objectContaining({ alert: "audit", severity: "page", state: "firing" }),
    );
    server.server.events.emit("audit-health", { state: "writable" });
    await waitFor(
      () => alerts.some((alert) => alert.alert === "audit" && alert.state === "resolved"),
      "resolved",
    );
  });
});

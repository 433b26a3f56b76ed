import { describe, expect, it } from "vitest";
import { loadConfig } from "./load-config.js";

const load = (flags: Record<string, string>) => loadConfig({ flags, env: {}, readConfigFile: false });

describe("SLA settings", () => {
  it("defaults: 10 s checks, 99.9 %, no probe, no webhook, no latency objectives", () => {
    const config = load({});
    expect(config).toMatchObject({
      noSla: false,
      healthIntervalMs: 10_000,
      slaTargetPercent: 99.9,
      slaProbeModel: "",
      alertWebhook: "",
      sloTtftP95Ms: {},
    });
  });

  it("parses a target, a webhook and per-priority objectives", () => {
    const config = load({
      "sla-target": "99.99",
      "alert-webhook": "http://127.0.0.1:9000/hook",
      "slo-ttft-p95": "high=500ms,normal=2s",
      "health-interval": "5s",
    });
    expect(config.slaTargetPercent).toBe(99.99);
    expect(config.alertWebhook).toBe("http://127.0.0.1:9000/hook");
    expect(config.sloTtftP95Ms).toEqual({ high: 500, normal: 2_000 });
    expect(config.healthIntervalMs).toBe(5_000);
  });

  it.each([
    ["sla-target", "100"],
    ["sla-target", "0"],
    ["sla-target", "abc"],
    ["alert-webhook", "ftp://example.com/x"],
    ["slo-ttft-p95", "urgent=1s"],
    ["health-interval", "10ms"],
  ])("refuses --%s %s", (flag, value) => {
    expect(() => load({ [flag]: value })).toThrow();
  });
});

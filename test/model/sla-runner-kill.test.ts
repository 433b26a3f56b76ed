/**
 * The SLA monitor on the real engine: a runner killed with SIGKILL shows `degraded` (another
 * model still serves) with an incident naming that model's runner check, closed once the
 * checks pass again.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for.js";
import { postJson, startModelServer, storiesPath, type ModelTestServer } from "./helpers.js";

interface Status {
  state: string;
  openIncident: { id: number; cause: string[] } | null;
}

async function status(url: string): Promise<Status> {
  return (await (await fetch(`${url}/v1/sla/status`)).json()) as Status;
}

describe("SLA on the real engine", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer({ "health-interval": "200ms", "max-loaded-models": "2" });
    copyFileSync(storiesPath, join(test.modelsDir, "second.gguf"));
  });
  afterAll(async () => test.dispose());

  it("a killed runner: degraded, an incident naming runner:MODEL, closed when checks pass again", async () => {
    for (const model of ["stories260K", "second"]) {
      // Ollama: an empty prompt loads the model.
      const response = await postJson(`${test.url}/api/generate`, { model, prompt: "", keep_alive: "10m" });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    await waitFor(async () => (await status(test.url)).state === "up", "state up", 10_000);
    const pid = test.server.queue.snapshot().loaded.find((view) => view.name === "stories260K")?.info.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, "SIGKILL");
    const degraded = await waitFor(
      async () => {
        const now = await status(test.url);
        return now.state === "degraded" && now.openIncident !== null ? now : undefined;
      },
      "degraded with an incident",
      10_000,
    );
    expect(degraded.openIncident!.cause.join("\n")).toMatch(/^runner:stories260K \(fail\): runner crashed/m);
    // The crashed model is unloaded; the next round passes and the incident closes.
    await waitFor(async () => (await status(test.url)).state === "up", "state up again", 10_000);
    const incidents = (await (await fetch(`${test.url}/v1/sla/incidents`)).json()) as {
      incidents: { id: number; end: string | null; worstState: string }[];
    };
    expect(incidents.incidents[0]).toMatchObject({ id: degraded.openIncident!.id, worstState: "degraded" });
    expect(incidents.incidents[0]!.end).not.toBeNull();
  });

  it("the synthetic probe generates on the real model and passes", async () => {
    const probed = await startModelServer({ "health-interval": "500ms", "sla-probe-model": "stories260K" });
    try {
      const checks = await waitFor(
        async () => {
          const body = (await (await fetch(`${probed.url}/v1/sla/status`)).json()) as {
            checks: { name: string; status: string }[];
          };
          // The first probe loads the model; from the next round its runner is checked too.
          const passing = body.checks.filter((check) => check.status === "pass").map((check) => check.name);
          return passing.includes("probe:stories260K") && passing.includes("runner:stories260K")
            ? body.checks
            : undefined;
        },
        "a passing probe",
        15_000,
      );
      expect(checks.find((check) => check.name === "front")?.status).toBe("pass");
    } finally {
      await probed.dispose();
    }
  });
});

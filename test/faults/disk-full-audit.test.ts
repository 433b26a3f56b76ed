/**
 * Issue #15 §2: the disk fills up under the audit log. Fail-closed: inference is refused with
 * 503 audit-unavailable. Not fail-closed: serving continues. In both a CRITICAL line is logged,
 * the SLA's audit check fails (an incident), and afterwards the log verifies: nothing corrupted.
 * Injected ENOSPC everywhere; a real full tmpfs under audit/ where mounting is allowed.
 */
import { rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger, type ServerEvents } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { testFiles, type TestFiles } from "../../src/ops/audit/audit-files.testing.js";
import { baseFlags, makeHome, postJson, waitFor } from "../e2e/helpers.js";
import { mountSmallDisk, whyNoSmallDisk, type SmallDisk } from "./small-disk.testing.js";

interface AuditServer {
  server: RunningServer;
  url: string;
  logLines: string[];
  incidents: ServerEvents["sla-incident"][];
}

const homes: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): { home: string; modelsDir: string } {
  const made = makeHome(["alpha"]);
  homes.push(made.home);
  return made;
}

async function start(
  where: { home: string; modelsDir: string },
  flags: Record<string, string>,
  files?: TestFiles,
): Promise<AuditServer> {
  const logLines: string[] = [];
  const config = loadConfig({
    flags: { ...baseFlags(where.home, where.modelsDir), "health-interval": "100ms", ...flags },
    env: {},
    readConfigFile: false,
  });
  const server = await startServer(config, {
    engine: new FakeEngine({ alpha: {} }),
    logger: createLogger("warn", (line) => logLines.push(line)),
    handleSignals: false,
    ...(files === undefined ? {} : { openAuditSegmentFile: files.open }),
  });
  servers.push(server);
  const incidents: ServerEvents["sla-incident"][] = [];
  server.events.on("sla-incident", (event) => incidents.push(event));
  return { server, url: server.url, logLines, incidents };
}

async function stop(running: AuditServer): Promise<void> {
  servers.splice(servers.indexOf(running.server), 1);
  await running.server.close();
}

const chat = (content: string): unknown => ({ model: "alpha", messages: [{ role: "user", content }] });

async function expectVerifies(home: string): Promise<void> {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(["audit", "verify"], io);
  expect(code, io.output() + io.errors()).toBe(0);
}

/** The CRITICAL log line and an SLA incident naming the audit check. */
async function expectAlarms(running: AuditServer, failClosed: boolean): Promise<void> {
  const critical = running.logLines.map((line) => JSON.parse(line) as { level: string; message: string });
  expect(critical).toContainEqual(
    expect.objectContaining({
      level: "error",
      message: expect.stringMatching(
        failClosed ? /^CRITICAL: .*inference is refused/ : /^CRITICAL: .*serving continues UNRECORDED/,
      ) as string,
    }),
  );
  await waitFor(
    () => running.incidents.find((event) => event.action === "opened"),
    "an SLA incident",
    10_000,
  );
  // Another check may open it first (a loaded machine misses the 100 ms front deadline); the audit
  // check's failure joins the open incident's causes.
  const auditCause = /^audit \(fail\): audit log failed/m;
  const open = await waitFor(
    () => {
      const incident = running.server.sla?.manager.status().openIncident;
      return incident !== null && incident !== undefined && auditCause.test(incident.cause.join("\n"))
        ? incident
        : undefined;
    },
    "the audit check among the open incident's causes",
    10_000,
  );
  expect(open.cause.join("\n")).toMatch(auditCause);
}

describe("disk full under the audit log", () => {
  it("not fail-closed: serving continues, CRITICAL log, SLA incident; the log verifies afterwards", async () => {
    const where = newHome();
    const files = testFiles();
    const running = await start(where, {}, files);
    expect((await postJson(`${running.url}/v1/chat/completions`, chat("before"))).status).toBe(200);
    files.fail("ENOSPC");
    for (const content of ["during", "still during"]) {
      const response = await postJson(`${running.url}/v1/chat/completions`, chat(content));
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    await expectAlarms(running, false);
    files.heal();
    await stop(running);
    await expectVerifies(where.home);
  });

  it("fail-closed: 503 audit-unavailable, CRITICAL log, SLA incident; the log verifies afterwards", async () => {
    const where = newHome();
    const files = testFiles();
    const running = await start(where, { "audit-fail-closed": "true" }, files);
    expect((await postJson(`${running.url}/v1/chat/completions`, chat("before"))).status).toBe(200);
    files.fail("ENOSPC");
    for (const content of ["refused", "refused again"]) {
      const response = await postJson(`${running.url}/v1/chat/completions`, chat(content));
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("audit-unavailable");
      expect(body.error.message).not.toMatch(/ENOSPC|\/tmp/);
    }
    await expectAlarms(running, true);
    files.heal();
    await stop(running);
    await expectVerifies(where.home);
  });

  const noSmallDisk = whyNoSmallDisk();
  it.skipIf(noSmallDisk !== undefined)(
    `fail-closed on a real full tmpfs under audit/: refused, then after space returns and a restart it serves and verifies${noSmallDisk === undefined ? "" : ` (skipped: ${noSmallDisk})`}`,
    async () => {
      const where = newHome();
      const auditDir = join(where.home, "audit");
      let disk: SmallDisk | undefined;
      try {
        disk = mountSmallDisk(auditDir, 256 * 1024);
        const running = await start(where, { "audit-fail-closed": "true" });
        expect((await postJson(`${running.url}/v1/chat/completions`, chat("before"))).status).toBe(200);
        // Fill what is left, then ask until the log's next write meets the full disk.
        const filler = join(auditDir, ".filler");
        const free = statfsSync(auditDir);
        writeFileSync(filler, Buffer.alloc(free.bavail * free.bsize));
        let status = 200;
        for (let attempt = 0; attempt < 50 && status === 200; attempt += 1) {
          const response = await postJson(`${running.url}/v1/chat/completions`, chat(`fill ${attempt}`));
          status = response.status;
          await response.arrayBuffer();
        }
        expect(status).toBe(503);
        await expectAlarms(running, true);
        rmSync(filler);
        await stop(running);
        const again = await start(where, { "audit-fail-closed": "true" });
        expect((await postJson(`${again.url}/v1/chat/completions`, chat("after"))).status).toBe(200);
        await stop(again);
        await expectVerifies(where.home);
      } finally {
        disk?.unmount();
      }
    },
  );
});

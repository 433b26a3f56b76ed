/**
 * The server's retention purge (issue #11, AU-11): at start and every 24 h on the time port, whole
 * sealed segments past the profile's retention are purged, each purge a `data` record that verify
 * accepts; the hipaa profile keeps six years.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { EventBus, FakeTime, silentLogger } from "../core/index.js";
import { auditPaths, queryAuditLog, readPublicKey, verifyAuditLog } from "../ops/index.js";
import { purgeIntervalMs } from "./audit-retention.js";
import { startAuditService, type AuditService } from "./audit-wiring.js";

let home: string;
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function runService(
  time: FakeTime,
  profile: string,
  during?: (service: AuditService) => Promise<void>,
): Promise<void> {
  const config = loadConfig({
    flags: { home, models: join(home, "models"), "audit-profile": profile },
    env: {},
    readConfigFile: false,
  });
  const service = await startAuditService({
    config,
    events: new EventBus(),
    logger: silentLogger,
    time,
    version: "test",
    env: {},
  });
  await during?.(service!);
  await service!.close("test");
}

function segments(): string[] {
  return readdirSync(join(home, "audit")).filter((name) => name.startsWith("segment-"));
}

async function purgeRecords(): Promise<unknown[]> {
  const paths = auditPaths(home);
  const details: unknown[] = [];
  for await (const record of queryAuditLog(paths.directory, { types: ["data"] }))
    if (record.action === "retention-purge") details.push(record.details);
  return details;
}

async function expectIntact(): Promise<void> {
  const paths = auditPaths(home);
  const report = await verifyAuditLog({
    directory: paths.directory,
    publicKey: await readPublicKey(paths.publicKey),
  });
  // A purge is a notice, not tampering: verify names it and still passes.
  expect(report.findings).toEqual([expect.objectContaining({ kind: "purged", severity: "notice" })]);
  expect(report.intact).toBe(true);
}

describe("the retention purge", () => {
  it("runs every 24 h of the time port and purges sealed segments past 365 days (standard)", async () => {
    home = mkdtempSync(join(tmpdir(), "rawrxd-retention-"));
    const time = new FakeTime({ wallMs: Date.UTC(2020, 0, 1, 12) });
    await runService(time, "standard");
    const [oldest] = segments();
    time.setWall(Date.UTC(2020, 0, 2, 12));
    await runService(time, "standard", async (service) => {
      // Nothing is old enough at start; 370 days later the daily run finds the first day's segment.
      await service.purgesIdle();
      expect(await purgeRecords()).toEqual([]);
      time.setWall(Date.UTC(2021, 0, 6, 12));
      await time.advanceAsync(purgeIntervalMs);
    });
    expect(existsSync(join(home, "audit", oldest!))).toBe(false);
    expect(await purgeRecords()).toEqual([
      expect.objectContaining({ segments: [oldest], retentionDays: 365, fromSeq: 1 }),
    ]);
    await expectIntact();
  });

  it("purges at start, and keeps six years under the hipaa profile", async () => {
    home = mkdtempSync(join(tmpdir(), "rawrxd-retention-"));
    const time = new FakeTime({ wallMs: Date.UTC(2020, 0, 1, 12) });
    await runService(time, "hipaa");
    const [oldest] = segments();
    time.setWall(Date.UTC(2022, 0, 1, 12));
    await runService(time, "hipaa");
    expect(existsSync(join(home, "audit", oldest!))).toBe(true);
    expect(await purgeRecords()).toEqual([]);
    time.setWall(Date.UTC(2026, 0, 10, 12));
    await runService(time, "hipaa");
    expect(existsSync(join(home, "audit", oldest!))).toBe(false);
    expect(await purgeRecords()).toEqual([
      expect.objectContaining({ segments: [oldest], retentionDays: 6 * 365 + 2 }),
    ]);
    await expectIntact();
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventBus, FakeTime, type ServerEvents } from "../../core/index.js";
import { createDataFolder, type DataFolder } from "./backup-fixture.testing.js";
import type { BackupManager } from "./backup-manager.js";
import { BackupSchedule } from "./backup-schedule.js";

const minuteMs = 60_000;
const intervalsMs = { full: 24 * 60 * minuteMs, differential: 60 * minuteMs, incremental: 15 * minuteMs };

describe("BackupSchedule", () => {
  let folder: DataFolder;
  beforeEach(async () => {
    folder = await createDataFolder();
  });
  afterEach(async () => {
    await folder.close();
  });

  it("keeps a 15-minute chain: a full at start, incrementals, a differential on the hour", async () => {
    const events = new EventBus();
    const ends: ServerEvents["backup-end"][] = [];
    events.on("backup-end", (event) => ends.push(event));
    const manager = await folder.manager({ events });
    const schedule = new BackupSchedule({ manager, time: folder.time, intervalsMs, events });
    await schedule.start();
    await folder.time.advanceAsync(60_000);
    await schedule.idle();
    for (let step = 0; step < 4; step += 1) {
      await folder.change(3, `step-${step}`);
      await folder.time.advanceAsync(15 * minuteMs - 3000);
      await schedule.idle();
    }
    await schedule.close();
    const list = await manager.list();
    expect(list.map((entry) => entry.kind)).toEqual([
      "full",
      "incremental",
      "incremental",
      "incremental",
      "differential",
    ]);
    expect(list.every((entry) => entry.status === "complete")).toBe(true);
    const gaps = list.slice(1).map((entry, index) => entry.createdAtMs - list[index]!.createdAtMs);
    expect(gaps.every((gap) => gap === 15 * minuteMs)).toBe(true);
    expect(ends.every((event) => event.ok && event.scheduled)).toBe(true);
    expect(list.every((entry) => entry.verified?.ok === true)).toBe(true);
    expect((await manager.verify({ readData: true })).ok).toBe(true);
  });

  it("a backup still running when the next is due, and a late schedule, are missed events", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 11, 1) });
    const events = new EventBus();
    const missed: ServerEvents["backup-missed"][] = [];
    events.on("backup-missed", (event) => missed.push(event));
    let release!: () => void;
    const fake = {
      list: async () => [
        {
          id: "f",
          kind: "full" as const,
          parent: null,
          createdAtMs: time.wallNow(),
          status: "complete" as const,
        },
      ],
      create: () => new Promise<never>((_, reject) => (release = () => reject(new Error("stopped")))),
      prune: async () => ({ kept: [], deleted: [], chunksDeleted: 0, bytesFreed: 0, dryRun: false }),
      verify: async () => ({ ok: true, readData: false, points: [], chunksChecked: 0, problems: [] }),
    } as unknown as BackupManager;
    const schedule = new BackupSchedule({ manager: fake, time, intervalsMs, events, initialDelayMs: 0 });
    await schedule.start();
    await time.advanceAsync(15 * minuteMs);
    await time.advanceAsync(15 * minuteMs);
    // At 0 the differential (never made) starts and hangs; the incrementals at 15 and 30 minutes are missed.
    expect(missed).toEqual([
      {
        kind: "incremental",
        dueAtMs: time.wallNow() - 15 * minuteMs,
        reason: "the previous backup was still running",
      },
      { kind: "incremental", dueAtMs: time.wallNow(), reason: "the previous backup was still running" },
    ]);
    release();
    await schedule.idle();
    // A wall-clock step is not a late schedule (test/faults/clock-jumps.test.ts has the rest).
    time.setWall(time.wallNow() + 60 * minuteMs);
    await time.advanceAsync(15 * minuteMs);
    expect(missed.slice(2).filter((event) => event.reason.includes("ran late"))).toEqual([]);
    release();
    await schedule.close();
  });
});

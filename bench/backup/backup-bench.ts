/**
 * `npm run bench:backup [-- --size-mb N] [-- --dir DIR] [-- --quick]`: backup figures on a
 * generated data folder (default about 1 GB; --quick: 50 MB) served by a real RawrXD server
 * (FakeEngine, so requests cost little and any latency is the backup's):
 * full backup time, incremental after a 1 % change (time and size vs the full), storage used
 * by 10 such incrementals (dedup ratio), restore time (RTO: restore + integrity_check + audit
 * verify), and request latency with no backup running vs during a full backup.
 * Prints a table and writes bench/results/backup-<time>.json and backup-latest.json.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger, systemTime } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { auditPaths, BackupManager, type BackupManifest } from "../../src/ops/index.js";
import { Database } from "../../src/store/index.js";
import { describeMachine } from "../lib/machine.js";
import { benchDirectory } from "../lib/models.js";
import { writeResultFiles } from "../lib/results.js";
import { percentile } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { changeRows, generateDataFolder } from "./data-folder.js";

interface Latency {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Sequential small completions until `until` settles (or `minRequests` when it is undefined). */
async function measureRequests(
  url: string,
  until: Promise<unknown> | undefined,
  minRequests = 200,
): Promise<Latency> {
  let isDone = false;
  void until?.finally(() => (isDone = true));
  const samples: number[] = [];
  while (until === undefined ? samples.length < minRequests : !isDone) {
    const started = systemTime.monotonicNow();
    const response = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bench", prompt: "hi", max_tokens: 2 }),
    });
    await response.arrayBuffer();
    samples.push(systemTime.monotonicNow() - started);
  }
  return {
    requests: samples.length,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: Math.max(...samples),
  };
}

async function post(url: string, kind: string): Promise<BackupManifest> {
  const response = await fetch(`${url}/v1/backups`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind }),
  });
  const body = (await response.json()) as { backup: BackupManifest };
  if (response.status !== 201)
    throw new Error(`POST /v1/backups ${kind}: ${response.status} ${JSON.stringify(body)}`);
  return body.backup;
}

function diskBytes(path: string): number {
  return Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      dir: { type: "string" },
      "size-mb": { type: "string" },
    },
    strict: true,
  });
  const sizeMb = Number(values["size-mb"] ?? (values.quick ? 50 : 1024));
  const startedAt = new Date(systemTime.wallNow()).toISOString();
  const machine = await describeMachine();
  const root = await mkdtemp(join(values.dir ?? benchDirectory, ".backup-bench-"));
  let server: RunningServer | undefined;
  try {
    const generateStarted = systemTime.monotonicNow();
    const folder = await generateDataFolder(join(root, "home"), sizeMb * 1024 * 1024);
    const dataBytes = diskBytes(folder.home);
    console.error(
      `Generated ${formatNumber(dataBytes / 1e6, 0)} MB in ${formatNumber((systemTime.monotonicNow() - generateStarted) / 1000, 1)} s`,
    );
    const config = loadConfig({
      flags: {
        home: folder.home,
        models: folder.modelsDir,
        host: "127.0.0.1",
        port: "0",
        "log-level": "error",
        "no-backup": true,
      },
      env: {},
      readConfigFile: false,
    });
    server = await startServer(config, {
      engine: new FakeEngine({ bench: { reply: "ok" } }),
      logger: silentLogger,
      handleSignals: false,
    });
    await measureRequests(server.url, undefined, 50);
    const idle = await measureRequests(server.url, undefined, 400);
    const fullPromise = post(server.url, "full");
    const during = await measureRequests(server.url, fullPromise);
    const full = await fullPromise;
    const database = Database.open({ path: join(folder.home, "rawrxd.db") });
    const incrementals: BackupManifest[] = [];
    try {
      for (let index = 0; index < 10; index += 1) {
        changeRows(database, folder.rows, 0.01);
        incrementals.push(await post(server.url, "incremental"));
      }
    } finally {
      database.close();
    }
    const backupDir = join(folder.home, "backups");
    const storedBytes = diskBytes(backupDir);
    const logicalBytes = [full, ...incrementals].reduce((sum, manifest) => sum + manifest.totalBytes, 0);
    const manager = await BackupManager.open({
      backupDir,
      home: folder.home,
      modelsDir: folder.modelsDir,
      auditPrivateKey: auditPaths(folder.home).privateKey,
      signingKeyFile: config.backupKeyFile,
    });
    const restore = await manager.restore(incrementals.at(-1)!.id, { to: join(root, "restored") });
    const first = incrementals[0]!;
    const results = {
      dataBytes,
      full: { ms: full.durationMs, storedBytes: full.storedBytes, totalBytes: full.totalBytes },
      incremental1Percent: {
        ms: first.durationMs,
        storedBytes: first.storedBytes,
        timeVsFull: first.durationMs / full.durationMs,
        sizeVsFull: first.storedBytes / full.storedBytes,
      },
      tenIncrementals: {
        storedBytes: storedBytes,
        logicalBytes,
        dedupRatio: logicalBytes / storedBytes,
        incrementalMs: incrementals.map((item) => item.durationMs),
      },
      restore: {
        ms: restore.durationMs,
        bytes: restore.bytes,
        audit: restore.audit,
        integrity: restore.databaseIntegrity,
      },
      latency: { idle, duringFullBackup: during, p99AddedMs: during.p99Ms - idle.p99Ms },
    };
    const rows = [
      ["data folder", `${formatNumber(dataBytes / 1e6, 0)} MB`, ""],
      [
        "full backup",
        `${formatNumber(full.durationMs / 1000, 2)} s`,
        `${formatNumber(full.storedBytes / 1e6, 0)} MB stored`,
      ],
      [
        "incremental after 1 % change",
        `${formatNumber(first.durationMs / 1000, 2)} s (${formatNumber(results.incremental1Percent.timeVsFull * 100, 1)} % of full)`,
        `${formatNumber(first.storedBytes / 1e6, 1)} MB (${formatNumber(results.incremental1Percent.sizeVsFull * 100, 1)} % of full)`,
      ],
      [
        "full + 10 incrementals",
        `${formatNumber(storedBytes / 1e6, 0)} MB on disk`,
        `dedup ratio ${formatNumber(results.tenIncrementals.dedupRatio, 1)}×`,
      ],
      [
        "restore (RTO)",
        `${formatNumber(restore.durationMs / 1000, 2)} s`,
        `integrity ${restore.databaseIntegrity}, audit ${typeof restore.audit === "object" ? (restore.audit.intact ? "intact" : "NOT intact") : restore.audit}`,
      ],
      [
        "request p99 / max, no backup",
        `${formatNumber(idle.p99Ms, 2)} / ${formatNumber(idle.maxMs, 2)} ms`,
        `${idle.requests} requests`,
      ],
      [
        "request p99 / max, during full",
        `${formatNumber(during.p99Ms, 2)} / ${formatNumber(during.maxMs, 2)} ms`,
        `${during.requests} requests; p99 +${formatNumber(results.latency.p99AddedMs, 2)} ms`,
      ],
    ];
    console.log(
      `Backup benchmark (${sizeMb} MB requested; targets: incremental ≤ 10 % of full, restore ≪ 5 min, p99 +≤ 5 ms)`,
    );
    console.log(formatTable(["MEASURE", "VALUE", "DETAIL"], rows));
    const path = await writeResultFiles(
      join(benchDirectory, "results"),
      { prefix: "backup", latest: "backup-latest.json", startedAt },
      { startedAt, machine, loadAverage: loadavg(), sizeMb, results },
    );
    console.log(`Raw results: ${path} (and results/backup-latest.json)`);
  } finally {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();

/**
 * Wires the BackupManager into the server (issue #12): the admin routes, the schedule (unless
 * --no-backup), the /metrics gauges, and the pid file an in-place restore looks for. A bad key
 * file stops the start with what to fix, as the audit log does.
 */
import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import type { Registry } from "prom-client";
import type { Config } from "../config/index.js";
import type { EventBus, Logger, TimePort } from "../core/index.js";
import {
  auditPaths,
  BackupManager,
  BackupSchedule,
  createBackupRoutes,
  registerBackupMetrics,
  serverPidFileName,
  type BackupAction,
} from "../ops/index.js";

export interface BackupService {
  manager: BackupManager;
  routes(onAction?: (action: BackupAction) => void): Hono;
  /** Stops the schedule, waits for a backup in progress, removes the pid file. */
  close(): Promise<void>;
}

export interface BackupWiringOptions {
  config: Readonly<Config>;
  events: EventBus;
  logger: Logger;
  time: TimePort;
  /** The /metrics registry (undefined with --no-metrics). */
  registry: Registry | undefined;
  env?: Readonly<Record<string, string | undefined>>;
}

export async function startBackupService(options: BackupWiringOptions): Promise<BackupService> {
  const { config, events, logger, time } = options;
  const pidFile = join(config.home, serverPidFileName);
  writeFileSync(pidFile, `${process.pid}\n`);
  let manager: BackupManager;
  try {
    manager = await BackupManager.open({
      backupDir: config.backupDir,
      home: config.home,
      modelsDir: config.modelsDir,
      auditPrivateKey: auditPaths(config.home, (options.env ?? process.env)["RAWRXD_AUDIT_KEY_FILE"])
        .privateKey,
      signingKeyFile: config.backupKeyFile,
      createSigningKey: true,
      encryptionKeyFile: config.backupEncryptionKeyFile,
      includeModels: config.backupIncludeModels,
      includeAuditPrivateKey: config.backupIncludeAuditKey,
      time,
      events,
    });
  } catch (error) {
    removePidFile(pidFile);
    throw new Error(
      `Cannot open the backups in ${config.backupDir}: ${(error as Error).message}. Fix the key files or start with --no-backup.`,
    );
  }
  const stopMetrics =
    options.registry === undefined ? undefined : registerBackupMetrics(options.registry, events);
  const schedule = config.noBackup
    ? undefined
    : new BackupSchedule({
        manager,
        time,
        events,
        logger,
        intervalsMs: {
          full: config.backupFullEveryMs,
          differential: config.backupDifferentialEveryMs,
          incremental: config.backupIncrementalEveryMs,
        },
        retention: { keepWithinMs: config.backupKeepWithinMs, keepDaily: config.backupKeepDaily },
      });
  await schedule?.start();
  let closing: Promise<void> | undefined;
  return {
    manager,
    routes: (onAction) =>
      createBackupRoutes({ manager, logger, ...(onAction === undefined ? {} : { onAction }) }),
    close: () =>
      (closing ??= (async () => {
        await schedule?.close();
        stopMetrics?.();
        removePidFile(pidFile);
      })()),
  };
}

function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

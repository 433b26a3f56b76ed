/**
 * BackupManager: full, incremental and differential backups of RAWRXD_HOME into a content-defined,
 * deduplicated chunk store with HMAC-signed manifests; verify, restore, retention and schedule.
 */
export { BackupManager, type BackupListEntry, type BackupManagerOptions } from "./backup-manager.js";
export { backupKinds, type BackupKind, type BackupManifest } from "./manifest.js";
export { Chunker, chunkBuffer, type ChunkerOptions } from "./chunker.js";
export { writeFileDurably, type ChunkFileWriter } from "./chunk-store.js";
export {
  formatBackupProblem,
  type BackupProblem,
  type BackupProblemKind,
  type BackupVerifyReport,
  type RestorePointResult,
} from "./verify-backups.js";
export type { RestoreOptions, RestoreResult } from "./restore-backup.js";
export type { PruneResult, RetentionPolicy } from "./prune-backups.js";
export { BackupSchedule, type BackupScheduleOptions } from "./backup-schedule.js";
export { createBackupRoutes, type BackupAction, type BackupRoutesOptions } from "./backup-routes.js";
export { registerBackupMetrics } from "./backup-metrics.js";
export { findRunningServer, serverPidFileName } from "./server-presence.js";

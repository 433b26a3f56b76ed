/** BackupManager events (issue #12), for the SLA manager, the audit log and the backup metrics. */
export type BackupKindName = "full" | "incremental" | "differential";

export interface BackupEvents {
  /** A backup ended, well or not; `storedBytes` is what it added to the chunk store. */
  "backup-end": {
    id: string;
    kind: BackupKindName;
    ok: boolean;
    durationMs: number;
    storedBytes: number;
    scheduled: boolean;
    error?: string;
  };
  /** A scheduled backup did not run when due (another still running, the process was asleep). */
  "backup-missed": { kind: BackupKindName; dueAtMs: number; reason: string };
  "backup-restored": { id: string; target: string; durationMs: number };
  "backup-pruned": { ids: string[]; chunksDeleted: number; bytesFreed: number };
}

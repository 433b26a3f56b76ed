/**
 * BackupManager: the one object the CLI, the admin routes and the schedule use. It owns the
 * backup folder's context and emits the backup events on the bus when one is given.
 */
import { join } from "node:path";
import { systemTime, type EventBus, type TimePort } from "../../core/index.js";
import type { BackupContext } from "./backup-context.js";
import { catalogOf, type BackupEntry } from "./catalog.js";
import type { ChunkerOptions } from "./chunker.js";
import { ChunkStore, type ChunkFileWriter } from "./chunk-store.js";
import { createBackup, newBackupId } from "./create-backup.js";
import { readManifests, type BackupKind, type BackupManifest } from "./manifest.js";
import { pruneBackups, type PruneResult, type RetentionPolicy } from "./prune-backups.js";
import { restoreBackup, type RestoreOptions, type RestoreResult } from "./restore-backup.js";
import { loadOrCreateBackupSigningKey, readBackupSigningKey, readKeyFile } from "./signing-key.js";
import { readVerification, type VerificationRecord } from "./verification-record.js";
import { verifyBackups, type BackupVerifyReport, type VerifyOptions } from "./verify-backups.js";

export interface BackupManagerOptions {
  /** The backup folder (--backup-dir, default RAWRXD_HOME/backups). */
  backupDir: string;
  home: string;
  modelsDir: string;
  /** The audit private key's path (its `.pub` is backed up; the key itself only if asked). */
  auditPrivateKey: string;
  /** HMAC key file (--backup-key-file, default RAWRXD_HOME/keys/backup-signing.key). */
  signingKeyFile: string;
  /** Create the signing key when missing (backups do; verify and restore must not). Default false. */
  createSigningKey?: boolean;
  /** 32-byte AES-256-GCM key file (64 hex digits); chunks are encrypted at rest when set. */
  encryptionKeyFile?: string;
  includeModels?: boolean;
  includeAuditPrivateKey?: boolean;
  time?: TimePort;
  events?: EventBus;
  chunker?: ChunkerOptions;
  /** Tests inject a writer that fails (a full disk). */
  chunkWriter?: ChunkFileWriter;
  databasePagesPerStep?: number;
}

export interface BackupListEntry {
  id: string;
  kind: BackupKind | undefined;
  parent: string | null;
  createdAtMs: number;
  status: BackupEntry["status"];
  reason?: string;
  totalBytes?: number;
  storedBytes?: number;
  durationMs?: number;
  files?: number;
  /** The last `verify` of this point, if any. */
  verified?: VerificationRecord;
}

export class BackupManager {
  readonly backupDir: string;
  readonly #context: BackupContext;
  readonly #events: EventBus | undefined;

  private constructor(context: BackupContext, events: EventBus | undefined) {
    this.backupDir = context.backupDir;
    this.#context = context;
    this.#events = events;
  }

  static async open(options: BackupManagerOptions): Promise<BackupManager> {
    const signingKey =
      options.createSigningKey === true
        ? await loadOrCreateBackupSigningKey(options.signingKeyFile)
        : await readBackupSigningKey(options.signingKeyFile).catch((error: NodeJS.ErrnoException) => {
            if (error.code === "ENOENT")
              throw new Error(
                `The backup signing key ${options.signingKeyFile} does not exist; backups made with another key cannot be checked. Pass --backup-key-file.`,
              );
            throw error;
          });
    const encryptionKey =
      options.encryptionKeyFile === undefined || options.encryptionKeyFile === ""
        ? undefined
        : await readKeyFile(options.encryptionKeyFile, "encryption");
    const store = new ChunkStore({
      directory: options.backupDir,
      ...(encryptionKey === undefined ? {} : { encryptionKey }),
      ...(options.chunkWriter === undefined ? {} : { writer: options.chunkWriter }),
    });
    const context: BackupContext = {
      backupDir: options.backupDir,
      layout: {
        home: options.home,
        modelsDir: options.modelsDir,
        auditPrivateKey: options.auditPrivateKey,
        excluded: [options.backupDir, join(options.home, "keys")],
      },
      signingKey,
      store,
      time: options.time ?? systemTime,
      ...(options.chunker === undefined ? {} : { chunker: options.chunker }),
      includeModels: options.includeModels === true,
      includeAuditPrivateKey: options.includeAuditPrivateKey === true,
      ...(options.databasePagesPerStep === undefined
        ? {}
        : { databasePagesPerStep: options.databasePagesPerStep }),
    };
    return new BackupManager(context, options.events);
  }

  async create(kind: BackupKind, options: { scheduled?: boolean } = {}): Promise<BackupManifest> {
    const started = this.#context.time.monotonicNow();
    const createdAtMs = this.#context.time.wallNow();
    const id = newBackupId(kind, createdAtMs);
    try {
      const manifest = await createBackup(this.#context, kind, { id, createdAtMs });
      this.#events?.emit("backup-end", {
        id: manifest.id,
        kind,
        ok: true,
        durationMs: manifest.durationMs,
        storedBytes: manifest.storedBytes,
        scheduled: options.scheduled === true,
      });
      return manifest;
    } catch (error) {
      this.#events?.emit("backup-end", {
        id,
        kind,
        ok: false,
        durationMs: Math.round(this.#context.time.monotonicNow() - started),
        storedBytes: 0,
        scheduled: options.scheduled === true,
        error: (error as Error).message,
      });
      throw error;
    }
  }

  /** Every backup in the folder, oldest first, failed and unverifiable ones included. */
  async list(): Promise<BackupListEntry[]> {
    const entries = catalogOf(await readManifests(this.backupDir, this.#context.signingKey));
    const verified = new Map<string, VerificationRecord>();
    for (const entry of entries) {
      const record = await readVerification(this.backupDir, entry.id);
      if (record !== undefined) verified.set(entry.id, record);
    }
    return entries.map((entry) => ({
      id: entry.id,
      kind: entry.kind,
      parent: entry.parent,
      createdAtMs: entry.createdAtMs,
      status: entry.status,
      ...(entry.reason === undefined ? {} : { reason: entry.reason }),
      ...(verified.has(entry.id) ? { verified: verified.get(entry.id)! } : {}),
      ...(entry.manifest === undefined
        ? {}
        : {
            totalBytes: entry.manifest.totalBytes,
            storedBytes: entry.manifest.storedBytes,
            durationMs: entry.manifest.durationMs,
            files: entry.manifest.files.length,
          }),
    }));
  }

  verify(options: VerifyOptions = {}): Promise<BackupVerifyReport> {
    return verifyBackups(this.#context, options);
  }

  async restore(id: string, options: RestoreOptions): Promise<RestoreResult> {
    const result = await restoreBackup(this.#context, id, options);
    this.#events?.emit("backup-restored", { id, target: result.target, durationMs: result.durationMs });
    return result;
  }

  async prune(policy: RetentionPolicy, options: { dryRun?: boolean } = {}): Promise<PruneResult> {
    const result = await pruneBackups(this.#context, policy, options);
    if (!result.dryRun)
      this.#events?.emit("backup-pruned", {
        ids: result.deleted,
        chunksDeleted: result.chunksDeleted,
        bytesFreed: result.bytesFreed,
      });
    return result;
  }
}

/** What every backup operation works with: the folders, the keys, the chunk store, the clock. */
import type { TimePort } from "../../core/index.js";
import type { DataFolderLayout } from "./capture.js";
import type { ChunkerOptions } from "./chunker.js";
import type { ChunkStore } from "./chunk-store.js";
import type { SigningKey } from "./manifest.js";

export interface BackupContext {
  backupDir: string;
  layout: DataFolderLayout;
  signingKey: SigningKey;
  store: ChunkStore;
  time: TimePort;
  chunker?: ChunkerOptions;
  includeModels: boolean;
  includeAuditPrivateKey: boolean;
  /** Pages per online-backup step of the database (default 256). */
  databasePagesPerStep?: number;
}

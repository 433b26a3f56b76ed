/**
 * State: the SQLite database under RAWRXD_HOME, its numbered migrations, the managed API keys,
 * and with --store the shared PostgreSQL (keys' authority, outbox replication).
 */
export { Database, applyMigrations, type OpenDatabaseOptions, type SqliteConnection } from "./database.js";
export { migrations, type Migration } from "./migrations.js";
export { ApiKeyStore, type KeyRow } from "./api-keys.js";
export { applyPostgresMigrations, postgresVersions } from "./postgres-migrations.js";
export { openPostgresPool, redactStoreUrl } from "./postgres-pool.js";
export { pgModule } from "./pg-module.js";
export {
  disableOutbox,
  enableOutbox,
  replicatedTables,
  storeNodeId,
  type ReplicatedTable,
} from "./outbox.js";
export { OutboxReplicator, type ReplicatorOptions } from "./replicator.js";
export { SharedApiKeys, keysChannel, type SharedApiKeysOptions } from "./shared-keys.js";
export { isStoreUrl, openSharedStore, type SharedStore, type SharedStoreOptions } from "./shared-store.js";
export { BackupCatalogTable } from "./backup-catalog.js";

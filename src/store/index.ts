/** State: the SQLite database under RAWRXD_HOME, its numbered migrations, and the managed API keys. */
export { Database, applyMigrations, type OpenDatabaseOptions, type SqliteConnection } from "./database.js";
export { migrations, type Migration } from "./migrations.js";
export { ApiKeyStore } from "./api-keys.js";

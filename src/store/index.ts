/** State: the SQLite database under RAWRXD_HOME and its numbered migrations. */
export { Database, applyMigrations, type OpenDatabaseOptions, type SqliteConnection } from "./database.js";
export { migrations, type Migration } from "./migrations.js";

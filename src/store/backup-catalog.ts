/**
 * The backup catalogue as rows (`backup_catalog`, migration 5), written with --store from the
 * backup events so the outbox ships it: which backups each node made, how they ended, and when
 * they were pruned. The signed manifests in the backup folder stay the truth for restores.
 */
import type { EventBus, ServerEvents, TimePort } from "../core/index.js";
import type { Database } from "./database.js";

export class BackupCatalogTable {
  readonly #database: Database;
  readonly #time: TimePort;

  constructor(database: Database, time: TimePort) {
    this.#database = database;
    this.#time = time;
  }

  recordEnd(event: ServerEvents["backup-end"]): void {
    this.#database.connection
      .prepare(
        `INSERT INTO backup_catalog (id, kind, ok, ended_at, duration_ms, stored_bytes, scheduled, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, ok = excluded.ok, ended_at = excluded.ended_at,
           duration_ms = excluded.duration_ms, stored_bytes = excluded.stored_bytes,
           scheduled = excluded.scheduled, error = excluded.error`,
      )
      .run(
        event.id,
        event.kind,
        event.ok ? 1 : 0,
        this.#time.wallNow(),
        event.durationMs,
        event.storedBytes,
        event.scheduled ? 1 : 0,
        event.error ?? null,
      );
  }

  recordPruned(ids: readonly string[]): void {
    const prune = this.#database.connection.prepare(
      "UPDATE backup_catalog SET pruned_at = ? WHERE id = ? AND pruned_at IS NULL",
    );
    const at = this.#time.wallNow();
    this.#database.connection.transaction(() => {
      for (const id of ids) prune.run(at, id);
    })();
  }

  /** Follows the bus' backup events; returns the unsubscribe. */
  follow(events: EventBus): () => void {
    const offEnd = events.on("backup-end", (event) => {
      if (!this.#database.isClosed) this.recordEnd(event);
    });
    const offPruned = events.on("backup-pruned", (event) => {
      if (!this.#database.isClosed) this.recordPruned(event.ids);
    });
    return () => {
      offEnd();
      offPruned();
    };
  }
}

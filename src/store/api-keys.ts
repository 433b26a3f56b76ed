/**
 * Managed API keys in the state database. A key reads `rxd_<id>_<secret>`: the id is public
 * (logs and the audit name a key by it), the secret is 256 random bits. Only the SHA-256 of
 * the whole key is stored: a fast hash is enough for keys that cannot be guessed, and it keeps
 * checking a key per request to one primary-key lookup and one digest.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  AppError,
  priorities,
  roles,
  systemTime,
  type ApiKeyRegistry,
  type ApiKeyView,
  type CreatedApiKey,
  type KeyCheck,
  type NewApiKey,
  type Priority,
  type Role,
  type TimePort,
} from "../core/index.js";
import type { Database } from "./database.js";

const keyPattern = /^rxd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const maxNameLength = 64;

/** A key as stored, in SQLite and in the shared PostgreSQL alike. */
export interface KeyRow {
  id: string;
  name: string;
  role: Role;
  max_priority: Priority;
  key_sha256: Buffer;
  created_at: number;
  revoked_at: number | null;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * Checks a new key's fields and makes its id, secret and hash: the key (shown once) and the row
 * to store.
 */
export function newKeyRow(input: NewApiKey, createdAtMs: number): { key: string; row: KeyRow } {
  const name = input.name.trim();
  if (name === "" || name.length > maxNameLength || /[\p{Cc}]/u.test(name))
    throw new AppError(
      "bad-request",
      `Invalid key name "${input.name}": use 1 to ${maxNameLength} printable characters.`,
      { param: "name" },
    );
  if (!roles.includes(input.role))
    throw new AppError("bad-request", `Invalid role "${input.role}": expected admin or user.`, {
      param: "role",
    });
  const maxPriority = input.maxPriority ?? "high";
  if (!priorities.includes(maxPriority))
    throw new AppError(
      "bad-request",
      `Invalid max priority "${maxPriority}": expected high, normal or low.`,
      {
        param: "max_priority",
      },
    );
  const id = randomBytes(6).toString("hex");
  const key = `rxd_${id}_${randomBytes(32).toString("base64url")}`;
  return {
    key,
    row: {
      id,
      name,
      role: input.role,
      max_priority: maxPriority,
      key_sha256: sha256(key),
      created_at: createdAtMs,
      revoked_at: null,
    },
  };
}

export function viewOf(row: KeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    maxPriority: row.max_priority,
    createdAtMs: row.created_at,
    revokedAtMs: row.revoked_at ?? undefined,
  };
}

export class ApiKeyStore implements ApiKeyRegistry {
  readonly #time: TimePort;
  readonly #insert;
  readonly #selectOne;
  readonly #selectAll;
  readonly #revoke;
  readonly #countActive;
  readonly #upsertMany: (rows: readonly KeyRow[]) => void;

  constructor(database: Database, options: { time?: TimePort } = {}) {
    const connection = database.connection;
    this.#time = options.time ?? systemTime;
    this.#insert = connection.prepare(
      "INSERT INTO api_keys (id, name, role, max_priority, key_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#selectOne = connection.prepare("SELECT * FROM api_keys WHERE id = ?");
    this.#selectAll = connection.prepare("SELECT * FROM api_keys ORDER BY created_at, id");
    this.#revoke = connection.prepare(
      "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    );
    const upsert = connection.prepare(
      `INSERT INTO api_keys (id, name, role, max_priority, key_sha256, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, max_priority = excluded.max_priority,
         key_sha256 = excluded.key_sha256, created_at = excluded.created_at,
         revoked_at = COALESCE(api_keys.revoked_at, excluded.revoked_at)`,
    );
    this.#upsertMany = connection.transaction((rows: readonly KeyRow[]) => {
      for (const row of rows)
        upsert.run(
          row.id,
          row.name,
          row.role,
          row.max_priority,
          row.key_sha256,
          row.created_at,
          row.revoked_at,
        );
    });
    this.#countActive = connection
      .prepare("SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL)")
      .pluck();
  }

  create(input: NewApiKey): CreatedApiKey {
    const { key, row } = newKeyRow(input, this.#time.wallNow());
    this.#insert.run(row.id, row.name, row.role, row.max_priority, row.key_sha256, row.created_at);
    return { key, view: viewOf(row) };
  }

  /** Every stored row (the replica's view, for comparing with the shared store). */
  rows(): KeyRow[] {
    return this.#selectAll.all() as KeyRow[];
  }

  /**
   * Writes rows as the shared store has them (a replica's update): inserted or replaced, except
   * that a revocation is never undone (an older snapshot arriving after a newer one, as a full
   * resync read before a revoke's notification, cannot bring a revoked key back).
   */
  upsertRows(rows: readonly KeyRow[]): void {
    this.#upsertMany(rows);
  }

  /** Every key, revoked ones included, oldest first. */
  list(): ApiKeyView[] {
    return (this.#selectAll.all() as KeyRow[]).map(viewOf);
  }

  get(id: string): ApiKeyView | undefined {
    const row = this.#selectOne.get(id) as KeyRow | undefined;
    return row === undefined ? undefined : viewOf(row);
  }

  /** Revokes at once (idempotent); undefined when no key has this id. */
  revoke(id: string): ApiKeyView | undefined {
    this.#revoke.run(this.#time.wallNow(), id);
    return this.get(id);
  }

  /** True while at least one managed key is active. */
  hasActiveKeys(): boolean {
    return this.#countActive.get() === 1;
  }

  /** Checks a presented key against the store: one primary-key lookup, a constant-time compare. */
  verify(presented: string): KeyCheck {
    const match = keyPattern.exec(presented);
    if (match === null) return { status: "invalid", keyId: undefined };
    const keyId = match[1]!;
    const row = this.#selectOne.get(keyId) as KeyRow | undefined;
    if (row === undefined || !timingSafeEqual(row.key_sha256, sha256(presented)))
      return { status: "invalid", keyId };
    if (row.revoked_at !== null) return { status: "revoked", keyId };
    return { status: "valid", view: viewOf(row) };
  }
}

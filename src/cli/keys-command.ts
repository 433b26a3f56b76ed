/**
 * `rawrxd keys create|list|revoke`: manages the API keys in RAWRXD_HOME's state database
 * directly, so it works whether or not a server runs (the database is in WAL mode; a running
 * server reads keys per request and sees a change at once). With --store the shared PostgreSQL
 * is written first (every node's copy follows within a second), then the local copy.
 */
import { join } from "node:path";
import {
  AppError,
  priorities,
  roles,
  silentLogger,
  systemTime,
  type ApiKeyRegistry,
  type Priority,
  type Role,
  type TimePort,
} from "../core/index.js";
import type { CliAuditRequest } from "../ops/index.js";
import {
  ApiKeyStore,
  applyPostgresMigrations,
  Database,
  openPostgresPool,
  SharedApiKeys,
} from "../store/index.js";
import { recordCliAction } from "./audit-record-cli.js";
import { usageError, type Command, type CommandContext } from "./cli-io.js";
import { formatRelativeTime, formatTable } from "./format.js";
import {
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
  type FlagValues,
} from "./parse-command-args.js";

export const keysUsage = `Usage: rawrxd keys create --name NAME --role admin|user [--max-priority P] [options]
       rawrxd keys list [options]
       rawrxd keys revoke ID [options]

Manage API keys. Works on the data directory whether or not a server is running; a running
server sees a new or revoked key at once. Once any key exists, every route but /health needs one.
create and revoke leave an audit record (key id cli, with your OS user); while a server holds
the audit log the record is handed to it through audit/inbox/.

  create                Create a key and print it once (only its hash is kept)
  list                  List keys: id, name, role, priority cap, created, revoked
  revoke ID             Revoke a key at once

Options:
  --name NAME           create: what the key is for (shown in lists and logs)
  --role ROLE           create: admin (every route) or user (inference, model lists, own requests)
  --max-priority P      create: highest priority the key may ask for: high (default), normal, low
  --home DIR            Data directory (env RAWRXD_HOME, default ~/.rawrxd)
  --store URL           Shared PostgreSQL of a cluster (env RAWRXD_STORE): keys change there,
                        and every node refuses a revoked key within a second
  -h, --help            Show this help
`;

const flags = {
  ...settingsFlagOptions(["home", "store"]),
  name: { type: "string" },
  role: { type: "string" },
  "max-priority": { type: "string" },
} as const;

export const keysCommand: Command = {
  name: "keys",
  usage: () => keysUsage,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs("keys", args, {
      flags,
      minPositionals: 1,
      maxPositionals: 2,
    });
    const action = positionals[0]!;
    const id = positionals[1];
    if (action !== "revoke" && id !== undefined) throw usageError("keys", `Unexpected argument "${id}".`);
    const config = configFromFlags("keys", values, {
      keys: ["home", "noAudit", "auditWitness", "store"],
      io: context.io,
    });
    if (!["create", "list", "revoke"].includes(action))
      throw usageError("keys", `Unknown action "${action}"; use create, list or revoke.`);
    if (action === "revoke" && id === undefined)
      throw usageError("keys", "Missing the id of the key to revoke.");
    const database = Database.open({ path: join(config.home, "rawrxd.db") });
    let done: { code: number; record?: CliAuditRequest };
    try {
      const time = context.dependencies.time ?? systemTime;
      const local = new ApiKeyStore(database, { time });
      done = await withKeys({ local, storeUrl: config.store, time }, async (keys) => {
        if (action === "create") return create(keys, values, context);
        if (action === "list") return { code: list(keys, context) };
        return revoke(keys, id!, context);
      });
    } finally {
      database.close();
    }
    if (done.record !== undefined) await recordCliAction("keys", done.record, { config, context });
    return done.code;
  },
};

/** The local keys, or with a store URL the shared ones (the local copy brought up to date first). */
async function withKeys<T>(
  { local, storeUrl, time }: { local: ApiKeyStore; storeUrl: string; time: TimePort },
  use: (keys: ApiKeyRegistry) => Promise<T>,
): Promise<T> {
  if (storeUrl === "") return use(local);
  const pool = openPostgresPool(storeUrl, silentLogger, 1);
  try {
    const keys = new SharedApiKeys({ local, pool, url: storeUrl, time, logger: silentLogger });
    try {
      await applyPostgresMigrations(pool);
      await keys.resync();
    } catch (error) {
      throw new AppError(
        "store-unavailable",
        `Cannot reach the PostgreSQL store given with --store: ${error instanceof Error ? error.message : String(error)}. Check the URL and that PostgreSQL runs.`,
        { cause: error },
      );
    }
    return await use(keys);
  } finally {
    await pool.end().catch(() => {});
  }
}

async function create(
  keys: ApiKeyRegistry,
  values: FlagValues,
  context: CommandContext,
): Promise<{ code: number; record: CliAuditRequest }> {
  const name = values["name"];
  const role = values["role"];
  const maxPriority = values["max-priority"] ?? "high";
  if (typeof name !== "string") throw usageError("keys", "create needs --name NAME.");
  if (typeof role !== "string" || !(roles as readonly string[]).includes(role))
    throw usageError("keys", "create needs --role admin or --role user.");
  if (typeof maxPriority !== "string" || !(priorities as readonly string[]).includes(maxPriority))
    throw usageError("keys", "--max-priority must be high, normal or low.");
  const { key, view } = await keys.create({ name, role: role as Role, maxPriority: maxPriority as Priority });
  context.io.stdout.write(`${key}\n`);
  context.io.stderr.write(
    `Created ${view.role} key ${view.id} ("${view.name}", max priority ${view.maxPriority}). ` +
      "Store it now: it is shown only this once.\n",
  );
  return {
    code: 0,
    record: {
      type: "authentication",
      action: "key-created",
      object: view.id,
      details: { name: view.name, role: view.role, maxPriority: view.maxPriority },
    },
  };
}

function list(keys: ApiKeyRegistry, context: CommandContext): number {
  const now = new Date((context.dependencies.time ?? systemTime).wallNow());
  const rows = keys
    .list()
    .map((view) => [
      view.id,
      view.name,
      view.role,
      view.maxPriority,
      formatRelativeTime(new Date(view.createdAtMs), now),
      view.revokedAtMs === undefined ? "" : formatRelativeTime(new Date(view.revokedAtMs), now),
    ]);
  if (rows.length === 0) {
    context.io.stdout.write("No API keys. Create one with: rawrxd keys create --name NAME --role admin\n");
    return 0;
  }
  context.io.stdout.write(formatTable(["ID", "NAME", "ROLE", "MAX PRIORITY", "CREATED", "REVOKED"], rows));
  return 0;
}

async function revoke(
  keys: ApiKeyRegistry,
  id: string,
  context: CommandContext,
): Promise<{ code: number; record: CliAuditRequest }> {
  const view = await keys.revoke(id);
  if (view === undefined)
    throw new AppError("not-found", `No API key has id "${id}"; see them with "rawrxd keys list".`);
  context.io.stdout.write(`Revoked key ${view.id} ("${view.name}").\n`);
  return {
    code: 0,
    record: { type: "authentication", action: "key-revoked", object: view.id, details: { name: view.name } },
  };
}

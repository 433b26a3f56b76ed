/**
 * `rawrxd keys create|list|revoke`: manages the API keys in RAWRXD_HOME's state database
 * directly, so it works whether or not a server runs (the database is in WAL mode; a running
 * server reads keys per request and sees a change at once).
 */
import { join } from "node:path";
import { AppError, priorities, roles, systemTime, type Priority, type Role } from "../core/index.js";
import type { CliAuditRequest } from "../ops/index.js";
import { ApiKeyStore, Database } from "../store/index.js";
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
  -h, --help            Show this help
`;

const flags = {
  ...settingsFlagOptions(["home"]),
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
      keys: ["home", "noAudit", "auditWitness"],
      io: context.io,
    });
    if (!["create", "list", "revoke"].includes(action))
      throw usageError("keys", `Unknown action "${action}"; use create, list or revoke.`);
    if (action === "revoke" && id === undefined)
      throw usageError("keys", "Missing the id of the key to revoke.");
    const database = Database.open({ path: join(config.home, "rawrxd.db") });
    let done: { code: number; record?: CliAuditRequest };
    try {
      const keys = new ApiKeyStore(database, { time: context.dependencies.time ?? systemTime });
      if (action === "create") done = create(keys, values, context);
      else if (action === "list") done = { code: list(keys, context) };
      else done = revoke(keys, id!, context);
    } finally {
      database.close();
    }
    if (done.record !== undefined) await recordCliAction("keys", done.record, { config, context });
    return done.code;
  },
};

function create(
  keys: ApiKeyStore,
  values: FlagValues,
  context: CommandContext,
): { code: number; record: CliAuditRequest } {
  const name = values["name"];
  const role = values["role"];
  const maxPriority = values["max-priority"] ?? "high";
  if (typeof name !== "string") throw usageError("keys", "create needs --name NAME.");
  if (typeof role !== "string" || !(roles as readonly string[]).includes(role))
    throw usageError("keys", "create needs --role admin or --role user.");
  if (typeof maxPriority !== "string" || !(priorities as readonly string[]).includes(maxPriority))
    throw usageError("keys", "--max-priority must be high, normal or low.");
  const { key, view } = keys.create({ name, role: role as Role, maxPriority: maxPriority as Priority });
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

function list(keys: ApiKeyStore, context: CommandContext): number {
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

function revoke(
  keys: ApiKeyStore,
  id: string,
  context: CommandContext,
): { code: number; record: CliAuditRequest } {
  const view = keys.revoke(id);
  if (view === undefined)
    throw new AppError("not-found", `No API key has id "${id}"; see them with "rawrxd keys list".`);
  context.io.stdout.write(`Revoked key ${view.id} ("${view.name}").\n`);
  return {
    code: 0,
    record: { type: "authentication", action: "key-revoked", object: view.id, details: { name: view.name } },
  };
}

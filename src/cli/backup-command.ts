/**
 * `rawrxd backup create|list|verify|restore|prune`: works on RAWRXD_HOME and the backup folder
 * directly, with or without a running server (a backup already running — the server's schedule
 * or another command — makes `create` and `prune` refuse, naming it).
 */
import type { Config } from "../config/index.js";
import { formatBytes, systemTime } from "../core/index.js";
import {
  auditPaths,
  backupKinds,
  BackupManager,
  findRunningServer,
  formatBackupProblem,
  type BackupKind,
} from "../ops/index.js";
import { CliError, usageError, type Command, type CommandContext } from "./cli-io.js";
import { formatTable } from "./format.js";
import {
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
  type FlagValues,
} from "./parse-command-args.js";

const settingKeys: readonly (keyof Config)[] = [
  "home",
  "host",
  "port",
  "modelsDir",
  "backupDir",
  "backupKeyFile",
  "backupEncryptionKeyFile",
  "backupIncludeModels",
  "backupIncludeAuditKey",
  "backupKeepWithinMs",
  "backupKeepDaily",
];

export const backupUsage = `Usage: rawrxd backup create [--kind full|incremental|differential] [options]
       rawrxd backup list [--json] [options]
       rawrxd backup verify [ID] [--read-data] [--json] [options]
       rawrxd backup restore ID --to DIR | --in-place [options]
       rawrxd backup prune [--dry-run] [options]

Back up the data folder ($RAWRXD_HOME: database, audit log, config, caches) into the backup
folder, check backups, bring one back. Works with or without a running server.

  create                Make a backup (default --kind incremental: what changed since the
                        previous backup; differential: since the last full)
  list                  Every backup: id, kind, parent, time, size, signature, last verify
  verify [ID]           Check manifest signatures, each chain back to its full and that every
                        chunk is there (--read-data: re-hash every chunk). Exit 0 only if all
                        is well; each problem names the backup and the restore points it breaks
  restore ID            Write the data folder of that point into --to DIR (a new folder), or
                        replace RAWRXD_HOME's data with --in-place (refused while a server
                        runs; the replaced data moves to .before-restore-TIME). Checks the
                        database (integrity_check) and the audit log, prints the time taken
  prune                 Delete backups past retention (--backup-keep-within, --backup-keep-daily;
                        the chains kept points need stay) and the chunks nothing kept uses

Options:
  --kind KIND           create: full, incremental (default) or differential
  --read-data           verify: read and re-hash every chunk
  --to DIR              restore: the folder to write (must be new or empty)
  --in-place            restore: into RAWRXD_HOME itself (the server must be stopped)
  --dry-run             prune: say what would go, delete nothing
  --json                list, verify: print JSON
  --home DIR            Data directory (env RAWRXD_HOME, default ~/.rawrxd)
  --backup-dir DIR      Backup folder (env RAWRXD_BACKUP_DIR, default $RAWRXD_HOME/backups)
  --backup-key-file F   Manifest signing key (default $RAWRXD_HOME/keys/backup-signing.key)
  --backup-encryption-key-file F   Chunk encryption key (64 hex digits), when backups are encrypted
  --backup-include-models          create: back up the .gguf files too
  -h, --help            Show this help
`;

const flags = {
  ...settingsFlagOptions(settingKeys),
  kind: { type: "string" },
  "read-data": { type: "boolean" },
  to: { type: "string" },
  "in-place": { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
} as const;

export const backupCommand: Command = {
  name: "backup",
  usage: () => backupUsage,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs("backup", args, {
      flags,
      minPositionals: 1,
      maxPositionals: 2,
    });
    const config = configFromFlags("backup", values, { keys: settingKeys, io: context.io });
    const [action, id] = positionals;
    const open = (createSigningKey: boolean): Promise<BackupManager> =>
      BackupManager.open({
        backupDir: config.backupDir,
        home: config.home,
        modelsDir: config.modelsDir,
        auditPrivateKey: auditPaths(config.home, context.io.env["RAWRXD_AUDIT_KEY_FILE"]).privateKey,
        signingKeyFile: config.backupKeyFile,
        createSigningKey,
        encryptionKeyFile: config.backupEncryptionKeyFile,
        includeModels: config.backupIncludeModels,
        includeAuditPrivateKey: config.backupIncludeAuditKey,
        time: context.dependencies.time ?? systemTime,
      }).catch((error: unknown) => {
        throw new CliError(`rawrxd backup: ${(error as Error).message}`);
      });
    if (action !== "verify" && action !== "restore" && id !== undefined)
      throw usageError("backup", `Unexpected argument "${id}".`);
    switch (action ?? "") {
      case "create":
        return create(await open(true), values, context);
      case "list":
        return list(await open(false), values, context);
      case "verify":
        return verify(await open(false), { values, id, context });
      case "restore":
        if (id === undefined) throw usageError("backup", "restore needs the backup ID (rawrxd backup list).");
        return restore(await open(false), { values, id, config, context });
      case "prune": {
        const result = await (
          await open(false)
        ).prune(
          { keepWithinMs: config.backupKeepWithinMs, keepDaily: config.backupKeepDaily },
          { dryRun: values["dry-run"] === true },
        );
        const verb = result.dryRun ? "would delete" : "deleted";
        context.io.stdout.write(
          `${verb} ${result.deleted.length} backup(s)${result.deleted.length > 0 ? ` (${result.deleted.join(", ")})` : ""} and ${result.chunksDeleted} chunk(s), ${formatBytes(result.bytesFreed)}; ${result.kept.length} kept\n`,
        );
        return 0;
      }
      default:
        throw usageError("backup", `Unknown action "${action}"; use create, list, verify, restore or prune.`);
    }
  },
};

async function create(manager: BackupManager, values: FlagValues, context: CommandContext): Promise<number> {
  const kind = typeof values["kind"] === "string" ? values["kind"] : "incremental";
  if (!(backupKinds as readonly string[]).includes(kind))
    throw usageError("backup", `--kind must be one of ${backupKinds.join(", ")}, not "${kind}".`);
  const manifest = await manager.create(kind as BackupKind);
  context.io.stdout.write(
    `${manifest.kind} backup ${manifest.id}${manifest.parent === null ? "" : ` (parent ${manifest.parent})`}: ` +
      `${manifest.files.length} files, ${formatBytes(manifest.totalBytes)}, ${formatBytes(manifest.storedBytes)} new in ${manifest.newChunks} chunks, ${manifest.durationMs} ms\n`,
  );
  return 0;
}

async function list(manager: BackupManager, values: FlagValues, context: CommandContext): Promise<number> {
  const entries = await manager.list();
  if (values["json"] === true) {
    context.io.stdout.write(JSON.stringify(entries, null, 2) + "\n");
    return 0;
  }
  if (entries.length === 0) {
    context.io.stdout.write(`No backups in ${manager.backupDir}.\n`);
    return 0;
  }
  const rows = entries.map((entry) => [
    entry.id,
    entry.kind ?? "?",
    entry.parent ?? "-",
    entry.createdAtMs === 0 ? "?" : new Date(entry.createdAtMs).toISOString(),
    entry.totalBytes === undefined ? "-" : formatBytes(entry.totalBytes),
    entry.storedBytes === undefined ? "-" : formatBytes(entry.storedBytes),
    entry.status === "complete" ? "signed" : entry.status,
    entry.verified === undefined
      ? "-"
      : `${entry.verified.ok ? "ok" : "FAILED"} ${new Date(entry.verified.atMs).toISOString().slice(0, 16)}Z${entry.verified.readData ? " (data)" : ""}`,
  ]);
  context.io.stdout.write(
    formatTable(["ID", "KIND", "PARENT", "TIME", "SIZE", "STORED", "STATUS", "VERIFIED"], rows) + "\n",
  );
  return 0;
}

async function verify(
  manager: BackupManager,
  options: { values: FlagValues; id: string | undefined; context: CommandContext },
): Promise<number> {
  const { io } = options.context;
  const report = await manager.verify({
    ...(options.id === undefined ? {} : { ids: [options.id] }),
    readData: options.values["read-data"] === true,
  });
  if (options.values["json"] === true) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    const good = report.points.filter((point) => point.ok).length;
    io.stdout.write(
      `${report.ok ? "OK" : "PROBLEMS"}: ${good} of ${report.points.length} restore point(s) restorable, ${report.chunksChecked} chunks ${report.readData ? "read and re-hashed" : "present"}\n`,
    );
    for (const problem of report.problems) io.stdout.write(formatBackupProblem(problem) + "\n");
  }
  return report.ok ? 0 : 1;
}

async function restore(
  manager: BackupManager,
  options: { values: FlagValues; id: string; config: Readonly<Config>; context: CommandContext },
): Promise<number> {
  const { values, config, context } = options;
  const to = typeof values["to"] === "string" ? values["to"] : undefined;
  const isInPlace = values["in-place"] === true;
  if ((to === undefined) === !isInPlace)
    throw usageError("backup", "restore needs exactly one of --to DIR or --in-place.");
  if (isInPlace) {
    const running = await findRunningServer({ home: config.home, host: config.host, port: config.port });
    if (running !== undefined)
      throw new CliError(
        `rawrxd backup restore --in-place: ${running}. Stop the server first, or restore --to a new folder.`,
      );
  }
  const result = await manager.restore(options.id, to === undefined ? { inPlace: true } : { to });
  const audit =
    typeof result.audit === "object"
      ? `audit log intact (${result.audit.records} records)`
      : `audit log ${result.audit}`;
  context.io.stdout.write(
    `Restored ${result.id} (chain ${result.chain.join(" → ")}) into ${result.target}: ${result.files} files, ${formatBytes(result.bytes)}; ` +
      `database integrity ${result.databaseIntegrity}, ${audit}.\n` +
      (result.previousDataDir === undefined ? "" : `The replaced data is in ${result.previousDataDir}.\n`) +
      `Restore took ${(result.durationMs / 1000).toFixed(2)} s (RTO).\n`,
  );
  return 0;
}

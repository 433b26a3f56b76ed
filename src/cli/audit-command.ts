/**
 * `rawrxd audit verify|query`: works offline on RAWRXD_HOME/audit, with or without a server.
 * `verify` needs only the public key and exits 0 only when the log is intact.
 */
import {
  auditPaths,
  auditTimeForms,
  parseAuditTime,
  auditTypes,
  verifyAuditLog,
  formatFinding,
  queryAuditLog,
  auditRecordsCsv,
  auditRecordsJsonl,
  readPublicKey,
  type AuditRecord,
  type AuditType,
  type CliAuditRequest,
} from "../ops/index.js";
import { verifyCluster } from "./audit-cluster-verify.js";
import { recordCliAction } from "./audit-record-cli.js";
import { systemTime } from "../core/index.js";
import { usageError, CliError, type Command, type CommandContext } from "./cli-io.js";
import {
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
  type FlagValues,
} from "./parse-command-args.js";

export const auditUsage = `Usage: rawrxd audit verify|query [options]

Check or read the audit log in $RAWRXD_HOME/audit. No server is needed. Each verify or
query is itself recorded (a data record, key id cli, with your OS user); while a server
holds the log the record is handed to it through audit/inbox/.

  verify                Recompute every hash, walk the chain across segments, check every
                        signed checkpoint (and the witness copies). Exit 0 only when intact;
                        each problem is printed with its segment, line and sequence number.
  query                 Print matching records, oldest first

Options (verify):
  --public-key FILE     Ed25519 public key (PEM) to check checkpoints with
                        (default $RAWRXD_HOME/audit-key/ed25519.pem.pub, or
                        $RAWRXD_AUDIT_KEY_FILE.pub)
  --witness DIR         Folder holding the witness copies of the checkpoints
  --from TIME           Verify only records at or after TIME
  --to TIME             Verify only records at or before TIME
  --cluster URL         Verify every node of a cluster against the checkpoints witnessed
                        in PostgreSQL (postgres://user@host:port/db, the nodes'
                        --audit-witness-url): each node's chain with the key it registered
  --node DIR            A node's RAWRXD_HOME or audit folder (repeatable; default: the
                        folders the nodes registered in PostgreSQL)
  --json                Print the report as JSON

Options (query):
  --since TIME          Records at or after TIME
  --until TIME          Records before TIME
  --type TYPE           ${auditTypes.join(", ")} (repeatable)
  --key ID              Records of one API key id (or anonymous-local)
  --request-id ID       Records of one request
  --format F            jsonl (default) or csv

TIME is an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00:00Z) or a span back from
now (30s, 30m, 24h, 7d).

  --home DIR            Data directory (env RAWRXD_HOME, default ~/.rawrxd)
  -h, --help            Show this help
`;

const flags = {
  ...settingsFlagOptions(["home"]),
  "public-key": { type: "string" },
  witness: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  cluster: { type: "string" },
  node: { type: "string", multiple: true },
  json: { type: "boolean" },
  since: { type: "string" },
  until: { type: "string" },
  type: { type: "string", multiple: true },
  key: { type: "string" },
  "request-id": { type: "string" },
  format: { type: "string" },
} as const;

export const auditCommand: Command = {
  name: "audit",
  usage: () => auditUsage,
  async run(args, context) {
    const { values, lists, positionals } = parseCommandArgs("audit", args, {
      flags,
      minPositionals: 1,
      maxPositionals: 1,
    });
    const config = configFromFlags("audit", values, {
      keys: ["home", "noAudit", "auditWitness"],
      io: context.io,
    });
    const paths = auditPaths(config.home, context.io.env["RAWRXD_AUDIT_KEY_FILE"]);
    const action = positionals[0] ?? "";
    let done: { code: number; record: CliAuditRequest };
    switch (action) {
      case "verify":
        done =
          typeof values["cluster"] === "string"
            ? await verifyCluster(
                { url: values["cluster"], nodes: lists["node"], json: values["json"] === true },
                context,
              )
            : await verify(values, { ...paths, context });
        break;
      case "query":
        done = await query(values, { directory: paths.directory, types: lists["type"], context });
        break;
      default:
        throw usageError("audit", `Unknown action "${action}"; use verify or query.`);
    }
    // Reading the audit log is itself on record (after the read: the record carries its result).
    await recordCliAction("audit", done.record, { config, context });
    return done.code;
  },
};

async function verify(
  values: FlagValues,
  options: { directory: string; publicKey: string; context: CommandContext },
): Promise<{ code: number; record: CliAuditRequest }> {
  const { io } = options.context;
  const nowMs = (options.context.dependencies.time ?? systemTime).wallNow();
  const publicKeyPath = stringFlag(values, "public-key") ?? options.publicKey;
  let publicKey;
  try {
    publicKey = await readPublicKey(publicKeyPath);
  } catch (error) {
    throw new CliError(
      `rawrxd audit verify: cannot read the public key ${publicKeyPath} (${(error as Error).message}). Pass --public-key FILE.`,
    );
  }
  const fromMs = timeFlag(values, "from", nowMs);
  const toMs = timeFlag(values, "to", nowMs);
  const report = await verifyAuditLog({
    directory: options.directory,
    publicKey,
    witnessDirectory: stringFlag(values, "witness"),
    fromMs,
    toMs,
  });
  const range = report.firstSeq === null ? "no records" : `seq ${report.firstSeq}..${report.lastSeq}`;
  const witness =
    values["witness"] === undefined ? "" : `, ${report.witnessCheckpointsVerified} witness checkpoints`;
  if (values["json"] === true) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    io.stdout.write(
      `${report.intact ? "INTACT" : "NOT INTACT"}: ${report.records} records (${range}), ${report.checkpointsVerified} signed checkpoints verified${witness}\n`,
    );
    for (const finding of report.findings) io.stdout.write(formatFinding(finding) + "\n");
  }
  return {
    code: report.intact ? 0 : 1,
    record: {
      type: "data",
      action: "audit-verify",
      object: "audit-log",
      details: {
        intact: report.intact,
        records: report.records,
        findings: report.findings.length,
        from: isoOrNull(fromMs),
        to: isoOrNull(toMs),
        witness: values["witness"] !== undefined,
      },
    },
  };
}

function isoOrNull(timeMs: number | undefined): string | null {
  return timeMs === undefined ? null : new Date(timeMs).toISOString();
}

async function query(
  values: FlagValues,
  options: { directory: string; types: string[] | undefined; context: CommandContext },
): Promise<{ code: number; record: CliAuditRequest }> {
  const { io } = options.context;
  const nowMs = (options.context.dependencies.time ?? systemTime).wallNow();
  const format = stringFlag(values, "format") ?? "jsonl";
  if (format !== "jsonl" && format !== "csv")
    throw usageError("audit", `--format must be jsonl or csv, not "${format}".`);
  const types = options.types?.map((type) => {
    if (!(auditTypes as readonly string[]).includes(type))
      throw usageError("audit", `--type must be one of ${auditTypes.join(", ")}, not "${type}".`);
    return type as AuditType;
  });
  const sinceMs = timeFlag(values, "since", nowMs);
  const untilMs = timeFlag(values, "until", nowMs);
  const keyId = stringFlag(values, "key");
  const requestId = stringFlag(values, "request-id");
  const records: AuditRecord[] = [];
  for await (const record of queryAuditLog(options.directory, { sinceMs, untilMs, types, keyId, requestId }))
    records.push(record);
  io.stdout.write(format === "csv" ? auditRecordsCsv(records) : auditRecordsJsonl(records));
  return {
    code: 0,
    record: {
      type: "data",
      action: "audit-query",
      object: "audit-log",
      details: {
        format,
        records: records.length,
        since: isoOrNull(sinceMs),
        until: isoOrNull(untilMs),
        types: types ?? null,
        key: keyId?.slice(0, 200) ?? null,
        requestId: requestId?.slice(0, 200) ?? null,
      },
    },
  };
}

function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

function timeFlag(values: FlagValues, name: string, nowMs: number): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const timeMs = parseAuditTime(text, nowMs);
  if (timeMs === undefined) throw usageError("audit", `--${name} must be ${auditTimeForms}, not "${text}".`);
  return timeMs;
}

/**
 * `rawrxd sla status|report|maintenance`: reads (and, for maintenance, writes) the SLA tables in
 * RAWRXD_HOME's state database directly, so it works whether or not a server runs.
 */
import { join } from "node:path";
import { systemTime } from "../core/index.js";
import {
  buildReport,
  monthOf,
  monthWindow,
  reportCsv,
  SlaStore,
  storedStatus,
  ttftSlos,
} from "../ops/index.js";
import { Database } from "../store/index.js";
import { usageError, type Command, type CommandContext } from "./cli-io.js";
import {
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
  type FlagValues,
} from "./parse-command-args.js";

export const slaUsage = `Usage: rawrxd sla status [options]
       rawrxd sla report [--month YYYY-MM] [--format json|csv] [options]
       rawrxd sla maintenance --start TIME --end TIME --reason TEXT [options]

The SLA records in the data directory. No server is needed.

  status                State (from the newest heartbeat), this month's availability,
                        coverage, error budget and burn rates, the open incident
  report                A month's report (UTC calendar month; default this month): target,
                        allowed and actual downtime, both availability figures, coverage,
                        incidents, maintenance windows, budget, latency objectives
  maintenance           Declare a maintenance window: its time is left out of the SLA.
                        The report shows when each window was declared.

Options:
  --month YYYY-MM       report: the month
  --format F            report: json (default) or csv
  --start TIME          maintenance: ISO 8601 time (2026-04-25T02:00:00Z) or "now"
  --end TIME            maintenance: ISO 8601 time, after --start
  --reason TEXT         maintenance: why (shown in the report)
  --sla-target P        Availability target in percent (env RAWRXD_SLA_TARGET, default 99.9)
  --health-interval D   The server's check interval, to judge the heartbeat (default 10s)
  --slo-ttft-p95 LIST   Latency objectives for the report, e.g. high=500ms,normal=2s
  --home DIR            Data directory (env RAWRXD_HOME, default ~/.rawrxd)
  -h, --help            Show this help
`;

const settingKeys = ["home", "slaTargetPercent", "healthIntervalMs", "sloTtftP95Ms"] as const;
const flags = {
  ...settingsFlagOptions(settingKeys),
  month: { type: "string" },
  format: { type: "string" },
  start: { type: "string" },
  end: { type: "string" },
  reason: { type: "string" },
} as const;

export const slaCommand: Command = {
  name: "sla",
  usage: () => slaUsage,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs("sla", args, {
      flags,
      minPositionals: 1,
      maxPositionals: 1,
    });
    const action = positionals[0]!;
    if (!["status", "report", "maintenance"].includes(action))
      throw usageError("sla", `Unknown action "${action}"; use status, report or maintenance.`);
    const config = configFromFlags("sla", values, { keys: settingKeys, io: context.io });
    const nowMs = (context.dependencies.time ?? systemTime).wallNow();
    if (action === "report") checkReportFlags(values);
    const maintenance = action === "maintenance" ? maintenanceOf(values, nowMs) : undefined;
    const database = Database.open({ path: join(config.home, "rawrxd.db") });
    try {
      if (action === "status") {
        const status = storedStatus(database, {
          nowMs,
          intervalMs: config.healthIntervalMs,
          targetPercent: config.slaTargetPercent,
        });
        context.io.stdout.write(JSON.stringify(status, null, 2) + "\n");
        return 0;
      }
      if (action === "report") {
        const report = buildReport({
          database,
          month: typeof values["month"] === "string" ? values["month"] : monthOf(nowMs),
          targetPercent: config.slaTargetPercent,
          nowMs,
          latencySlos: ttftSlos(config.sloTtftP95Ms),
        });
        context.io.stdout.write(
          values["format"] === "csv" ? reportCsv(report) : JSON.stringify(report, null, 2) + "\n",
        );
        if (report.status === "no-data")
          context.io.stderr.write(`No SLA data for ${report.month}: no availability is claimed.\n`);
        return 0;
      }
      return declare(new SlaStore(database), maintenance!, context);
    } finally {
      database.close();
    }
  },
};

function checkReportFlags(values: FlagValues): void {
  const month = values["month"];
  if (month !== undefined && (typeof month !== "string" || monthWindow(month) === undefined))
    throw usageError("sla", `--month must be YYYY-MM (e.g. 2026-04); got "${String(month)}".`);
  const format = values["format"];
  if (format !== undefined && format !== "json" && format !== "csv")
    throw usageError("sla", `--format must be json or csv; got "${String(format)}".`);
}

function timeOf(raw: unknown, name: string, nowMs: number): number {
  if (raw === "now") return nowMs;
  const ms = typeof raw === "string" && /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms))
    throw usageError("sla", `${name} must be an ISO 8601 time such as 2026-04-25T02:00:00Z, or "now".`);
  return ms;
}

function maintenanceOf(
  values: FlagValues,
  nowMs: number,
): { startMs: number; endMs: number; reason: string } {
  const reason = values["reason"];
  if (
    values["start"] === undefined ||
    values["end"] === undefined ||
    typeof reason !== "string" ||
    reason === ""
  )
    throw usageError("sla", "maintenance needs --start TIME, --end TIME and --reason TEXT.");
  const startMs = timeOf(values["start"], "--start", nowMs);
  const endMs = timeOf(values["end"], "--end", nowMs);
  if (endMs <= startMs) throw usageError("sla", "--end must be after --start.");
  return { startMs, endMs, reason };
}

function declare(
  store: SlaStore,
  window: { startMs: number; endMs: number; reason: string },
  context: CommandContext,
): number {
  const nowMs = (context.dependencies.time ?? systemTime).wallNow();
  const id = store.addMaintenance({ ...window, createdMs: nowMs });
  const iso = (ms: number): string => new Date(ms).toISOString();
  context.io.stdout.write(
    `Maintenance window ${id}: ${iso(window.startMs)} to ${iso(window.endMs)} (${window.reason}); ` +
      "its time is left out of the SLA.\n",
  );
  if (window.startMs < nowMs)
    context.io.stderr.write(
      "Note: the window starts in the past; the report shows it as declared after the fact.\n",
    );
  return 0;
}

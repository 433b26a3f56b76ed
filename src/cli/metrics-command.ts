/**
 * `rawrxd metrics`: a client of the metrics API. `show` prints per-model, per-priority latency
 * percentiles; `export` writes the server's JSON or CSV as is (`> file.csv`); `warnings` lists
 * performance warnings.
 */
import { z } from "zod";
import { usageError, type Command, type CommandContext } from "./cli-io.js";
import { formatTable } from "./format.js";
import { connectionOptions } from "./help-text.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";
import { createServerClient, type ServerClient } from "./server-client.js";
import { parseWire } from "./wire-schemas.js";

export const metricsUsage = `Usage: rawrxd metrics [show|export|warnings] [options]

Read the running server's metrics (GET /v1/metrics).

  show                  Requests and p50/p95/p99 per model and priority (default)
  export                Write the metrics to standard output as CSV or JSON:
                          rawrxd metrics export --format csv --window 1h > metrics.csv
  warnings              Active and recent performance warnings

Options:
  --window W            1m, 5m (default), 1h, start (since the server started), or a
                        history range from the per-minute rollups such as 24h or 7d
  --format F            export: csv (default) or json
  --requests            export: the request log (one row per request) instead
  --history             export: the per-minute rollups over --window instead
  --limit N             export --requests: the newest N requests
  -h, --help            Show this help

${connectionOptions}
`;

const stats = z.object({
  count: z.number(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
const series = z.object({
  requests: z.number(),
  errors: z.record(z.string(), z.number()),
  stats: z.object({
    time_to_first_token_ms: stats,
    decode_tokens_per_second: stats,
    total_ms: stats,
    queue_ms: stats,
  }),
});
const snapshotResponse = z.object({
  window: z.string(),
  overall: series,
  models: z.record(z.string(), series.extend({ priorities: z.record(z.string(), series) })),
});
const warningsResponse = z.object({
  active: z.array(
    z.object({ rule: z.string(), model: z.string().nullable(), message: z.string(), started_at: z.string() }),
  ),
  recent: z.array(
    z.object({
      rule: z.string(),
      model: z.string().nullable(),
      state: z.string(),
      started_at: z.string(),
      cleared_at: z.string().nullable(),
    }),
  ),
});

const flags = {
  ...settingsFlagOptions(clientSettingKeys),
  window: { type: "string" },
  format: { type: "string" },
  requests: { type: "boolean" },
  history: { type: "boolean" },
  limit: { type: "string" },
} as const;

export const metricsCommand: Command = {
  name: "metrics",
  usage: () => metricsUsage,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs("metrics", args, {
      flags,
      minPositionals: 0,
      maxPositionals: 1,
    });
    const action = positionals[0] ?? "show";
    const config = configFromFlags("metrics", values, { keys: clientSettingKeys, io: context.io });
    const client = createServerClient(config, context.io.env);
    const window = typeof values["window"] === "string" ? values["window"] : undefined;
    switch (action) {
      case "show":
        return show(client, context, window ?? "5m");
      case "export":
        return exportMetrics(client, context, {
          window,
          format: values["format"],
          isRequestLog: values["requests"] === true,
          isHistory: values["history"] === true,
          limit: values["limit"],
        });
      case "warnings":
        return warnings(client, context);
      default:
        throw usageError("metrics", `Unknown action "${action}"; use show, export or warnings.`);
    }
  },
};

interface ExportOptions {
  window: string | undefined;
  format: string | boolean | undefined;
  isRequestLog: boolean;
  isHistory: boolean;
  limit: string | boolean | undefined;
}

async function exportMetrics(
  client: ServerClient,
  context: CommandContext,
  options: ExportOptions,
): Promise<number> {
  const format = options.format ?? "csv";
  if (format !== "csv" && format !== "json")
    throw usageError("metrics", `--format must be csv or json, not "${String(format)}".`);
  if (options.isRequestLog && options.isHistory)
    throw usageError("metrics", "Use --requests or --history, not both.");
  const query = new URLSearchParams({ format });
  let path = "/v1/metrics";
  if (options.isRequestLog) {
    path = "/v1/metrics/requests";
    if (typeof options.limit === "string") query.set("limit", options.limit);
  } else if (options.isHistory) {
    path = "/v1/metrics/history";
    query.set("since", options.window ?? "1h");
  } else {
    query.set("window", options.window ?? "5m");
  }
  const response = await client.request("GET", `${path}?${query.toString()}`);
  const body = await response.text();
  context.io.stdout.write(format === "json" && !body.endsWith("\n") ? body + "\n" : body);
  return 0;
}

async function show(client: ServerClient, context: CommandContext, window: string): Promise<number> {
  const body = parseWire(
    snapshotResponse,
    await client.requestJson("GET", `/v1/metrics?window=${encodeURIComponent(window)}`),
    "GET /v1/metrics",
  );
  const rows: string[][] = [];
  const row = (model: string, priority: string, view: z.infer<typeof series>): string[] => {
    const {
      time_to_first_token_ms: ttft,
      decode_tokens_per_second: decode,
      total_ms: total,
      queue_ms: queue,
    } = view.stats;
    const errors = Object.values(view.errors).reduce((sum, count) => sum + count, 0);
    return [
      model,
      priority,
      String(view.requests),
      String(errors),
      ms(queue.p95),
      `${ms(ttft.p50)} / ${ms(ttft.p95)} / ${ms(ttft.p99)}`,
      rate(decode.p50),
      `${ms(total.p50)} / ${ms(total.p95)} / ${ms(total.p99)}`,
    ];
  };
  for (const [model, view] of Object.entries(body.models)) {
    rows.push(row(model, "all", view));
    for (const [priority, leaf] of Object.entries(view.priorities)) rows.push(row(model, priority, leaf));
  }
  context.io.stdout.write(`Window ${body.window}: ${body.overall.requests} requests\n`);
  if (rows.length > 0) {
    context.io.stdout.write(
      formatTable(
        [
          "MODEL",
          "PRIORITY",
          "REQUESTS",
          "ERRORS",
          "QUEUE P95",
          "TTFT P50 / P95 / P99",
          "DECODE TOK/S",
          "TOTAL P50 / P95 / P99",
        ],
        rows,
      ),
    );
  }
  return 0;
}

async function warnings(client: ServerClient, context: CommandContext): Promise<number> {
  const body = parseWire(
    warningsResponse,
    await client.requestJson("GET", "/v1/metrics/warnings"),
    "GET /v1/metrics/warnings",
  );
  if (body.active.length === 0) context.io.stdout.write("No active performance warnings.\n");
  for (const warning of body.active) context.io.stdout.write(`${warning.started_at}  ${warning.message}\n`);
  const cleared = body.recent.filter((warning) => warning.state === "cleared");
  if (cleared.length > 0) {
    context.io.stdout.write("\nRecently cleared:\n");
    for (const warning of cleared)
      context.io.stdout.write(
        `${warning.cleared_at ?? ""}  ${warning.rule}${warning.model === null ? "" : ` (${warning.model})`}\n`,
      );
  }
  return 0;
}

function ms(value: number | null): string {
  if (value === null) return "-";
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(value >= 100 ? 0 : 1)}ms`;
}

function rate(value: number | null): string {
  return value === null ? "-" : value.toFixed(1);
}

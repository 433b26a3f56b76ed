/**
 * `rawrxd ls` (GET /api/tags) and `rawrxd ps` (GET /api/ps): tables of models; on a cluster node
 * `ps` shows every node's models with a NODE column (from GET /v1/queue's `nodes`).
 */
import { formatBytes, systemTime } from "../core/index.js";
import type { Command, CommandContext } from "./cli-io.js";
import { clusterNodesOf, clusterPsTable } from "./cluster-ps.js";
import { formatRelativeTime, formatTable, formatUntil } from "./format.js";
import { listUsage, psUsage } from "./help-text.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";
import { createServerClient, type ServerClient } from "./server-client.js";
import { parseWire, psResponse, queueResponse, tagsResponse } from "./wire-schemas.js";

export const listCommand: Command = {
  name: "ls",
  usage: () => listUsage,
  async run(args, context) {
    const client = connect("ls", args, context);
    const body = parseWire(tagsResponse, await client.requestJson("GET", "/api/tags"), "GET /api/tags");
    const now = new Date((context.dependencies.time ?? systemTime).wallNow());
    context.io.stdout.write(
      formatTable(
        ["NAME", "SIZE", "QUANT", "MODIFIED"],
        body.models.map((model) => [
          model.name,
          model.size === undefined ? "" : formatBytes(model.size),
          model.details?.quantization_level ?? "",
          model.modified_at === undefined ? "" : formatRelativeTime(new Date(model.modified_at), now),
        ]),
      ),
    );
    for (const model of body.models.filter((entry) => entry.demo === true)) {
      context.io.stdout.write(
        `\n${model.name} is the bundled demo model, offered while the models folder has no models ` +
          "(rawrxd serve --no-demo-model turns it off).\n",
      );
    }
    return 0;
  },
};

export const psCommand: Command = {
  name: "ps",
  usage: () => psUsage,
  async run(args, context) {
    const client = connect("ps", args, context);
    const body = parseWire(psResponse, await client.requestJson("GET", "/api/ps"), "GET /api/ps");
    const now = new Date((context.dependencies.time ?? systemTime).wallNow());
    const queue = await client.requestJson("GET", "/v1/queue").catch(() => undefined);
    const clusterNodes = clusterNodesOf(queue);
    context.io.stdout.write(
      clusterNodes !== undefined
        ? clusterPsTable(clusterNodes)
        : formatTable(
            ["NAME", "SIZE", "CONTEXT", "SEQUENCES", "QUEUED", "UNTIL"],
            body.models.map((model) => [
              model.name,
              model.size === undefined ? "" : formatBytes(model.size),
              model.context_length === undefined ? "" : String(model.context_length),
              model.sequences === undefined ? "" : `${model.sequences.active}/${model.sequences.total}`,
              model.sequences === undefined ? "" : String(model.sequences.queued),
              formatUntil(model.expires_at, now),
            ]),
          ),
    );
    const parsed = queueResponse.safeParse(queue);
    if (parsed.success && parsed.data.models.length > 0) {
      const cell = (view: { queued: number; running: number }) =>
        `${view.running} running, ${view.queued} queued`;
      context.io.stdout.write(`\nQueue: ${parsed.data.queued} waiting (limit ${parsed.data.max_queued})\n`);
      context.io.stdout.write(
        formatTable(
          ["MODEL", "STATE", "HIGH", "NORMAL", "LOW", "OLDEST WAIT"],
          parsed.data.models.map((model) => {
            const oldest = Math.max(
              ...Object.values(model.priorities).map((view) => view.oldest_wait_ms ?? 0),
            );
            return [
              model.model,
              model.state,
              cell(model.priorities.high),
              cell(model.priorities.normal),
              cell(model.priorities.low),
              oldest > 0 ? `${(oldest / 1000).toFixed(1)}s` : "",
            ];
          }),
        ),
      );
    }
    return 0;
  },
};

/** Parses a command without positionals or own flags and returns the server client. */
function connect(command: string, args: string[], context: CommandContext): ServerClient {
  const { values } = parseCommandArgs(command, args, {
    flags: settingsFlagOptions(clientSettingKeys),
    minPositionals: 0,
    maxPositionals: 0,
  });
  const config = configFromFlags(command, values, { keys: clientSettingKeys, io: context.io });
  return createServerClient(config, context.io.env);
}

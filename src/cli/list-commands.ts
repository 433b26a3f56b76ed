/** `rawrxd ls` (GET /api/tags) and `rawrxd ps` (GET /api/ps): tables of models. */
import type { Command, CommandContext } from "./cli-io.js";
import { formatBytes, formatRelativeTime, formatTable, formatUntil } from "./format.js";
import { listUsage, psUsage } from "./help-text.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";
import { createServerClient, type ServerClient } from "./server-client.js";
import { parseWire, psResponse, tagsResponse } from "./wire-schemas.js";

export const listCommand: Command = {
  name: "ls",
  usage: () => listUsage,
  async run(args, context) {
    const client = connect("ls", args, context);
    const body = parseWire(tagsResponse, await client.requestJson("GET", "/api/tags"), "GET /api/tags");
    const now = context.dependencies.now?.() ?? new Date();
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
    return 0;
  },
};

export const psCommand: Command = {
  name: "ps",
  usage: () => psUsage,
  async run(args, context) {
    const client = connect("ps", args, context);
    const body = parseWire(psResponse, await client.requestJson("GET", "/api/ps"), "GET /api/ps");
    const now = context.dependencies.now?.() ?? new Date();
    context.io.stdout.write(
      formatTable(
        ["NAME", "SIZE", "CONTEXT", "UNTIL"],
        body.models.map((model) => [
          model.name,
          model.size === undefined ? "" : formatBytes(model.size),
          model.context_length === undefined ? "" : String(model.context_length),
          formatUntil(model.expires_at, now),
        ]),
      ),
    );
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

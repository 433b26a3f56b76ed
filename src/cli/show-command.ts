/** `rawrxd show MODEL`: POST /api/show, printed as a short summary or, with --json, raw. */
import type { Command } from "./cli-io.js";
import { formatParameterCount } from "./format.js";
import { showUsage } from "./help-text.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";
import { createServerClient } from "./server-client.js";
import { parseWire, showResponse, type ShowResponse } from "./wire-schemas.js";

export const showCommand: Command = {
  name: "show",
  usage: () => showUsage,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs("show", args, {
      flags: { ...settingsFlagOptions(clientSettingKeys), json: { type: "boolean" } },
      minPositionals: 1,
      maxPositionals: 1,
    });
    const config = configFromFlags("show", values, { keys: clientSettingKeys, io: context.io });
    const client = createServerClient(config, context.io.env);
    const raw = await client.requestJson("POST", "/api/show", { body: { model: positionals[0] } });
    if (values["json"] === true) {
      context.io.stdout.write(JSON.stringify(raw, null, 2) + "\n");
      return 0;
    }
    context.io.stdout.write(formatShow(parseWire(showResponse, raw, "POST /api/show")));
    return 0;
  },
};

/** The summary `show` prints: one labelled line per known fact, "unknown" for missing ones. */
export function formatShow(body: ShowResponse): string {
  const info = body.model_info ?? {};
  const architecture = stringOf(info["general.architecture"]) ?? body.details?.family;
  const fromArchitecture = (key: string) =>
    architecture === undefined ? undefined : numberOf(info[`${architecture}.${key}`]);
  const parameterCount = numberOf(info["general.parameter_count"]);
  const parameters =
    body.details?.parameter_size ??
    (parameterCount === undefined ? undefined : formatParameterCount(parameterCount));
  const hasTemplate =
    (body.template !== undefined && body.template.trim() !== "") ||
    typeof info["tokenizer.chat_template"] === "string";
  const rows: [string, string | number | undefined][] = [
    ["architecture", architecture],
    ["parameters", parameters],
    ["context length", fromArchitecture("context_length")],
    ["embedding length", fromArchitecture("embedding_length")],
    ["quantization", body.details?.quantization_level],
    ["chat template", hasTemplate ? "yes" : "no"],
  ];
  if (body.capabilities !== undefined && body.capabilities.length > 0) {
    rows.push(["capabilities", body.capabilities.join(", ")]);
  }
  const lines = rows.map(([label, value]) => `    ${label.padEnd(20)}${value ?? "unknown"}`);
  return ["  Model", ...lines, ""].join("\n") + "\n";
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

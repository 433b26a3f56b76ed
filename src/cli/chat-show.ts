/** What the chat's `/show info|parameters|system` prints. */
import type { ParameterValue } from "./chat-commands.js";
import type { ServerClient } from "./server-client.js";
import { formatShow } from "./show-command.js";
import { parseWire, showResponse } from "./wire-schemas.js";

export interface ShowState {
  client: ServerClient;
  model: string;
  system: string | undefined;
  parameters: Readonly<Record<string, ParameterValue>>;
}

export async function showText(what: "info" | "parameters" | "system", state: ShowState): Promise<string> {
  if (what === "system") {
    return state.system === undefined ? "No system message was specified.\n" : `${state.system}\n`;
  }
  if (what === "parameters") {
    const entries = Object.entries(state.parameters);
    return entries.length === 0
      ? "No parameters were set in this session.\n"
      : "Parameters set in this session:\n" +
          entries.map(([name, value]) => `  ${name.padEnd(16)}${formatValue(value)}\n`).join("");
  }
  const raw = await state.client.requestJson("POST", "/api/show", { body: { model: state.model } });
  return formatShow(parseWire(showResponse, raw, "POST /api/show"));
}

export function formatValue(value: ParameterValue): string {
  return Array.isArray(value) ? value.join(" ") : String(value);
}

/**
 * FakeEngine's scripted tool calls: a fake model given `toolCalls` calls them when a request
 * offers tools (until the conversation already ends with tool results: then it answers in text).
 */
import { AppError, type GenerateRequest, type ToolCall } from "../core/index.js";

export interface FakeToolCall {
  name: string;
  /** The arguments object; default {}. */
  arguments?: Record<string, unknown>;
}

/** The calls this request gets, or undefined when the model answers in text. */
export function scriptedToolCalls(
  request: GenerateRequest,
  model: string,
  script: readonly FakeToolCall[] | undefined,
): ToolCall[] | undefined {
  const tools = request.tools;
  if (tools === undefined) return undefined;
  if (script === undefined) {
    throw new AppError(
      "tools-not-supported",
      `The model "${model}" cannot call tools: its chat template has no tool calling. Use a model whose template supports tools, or send the request without tools.`,
    );
  }
  const messages = request.input.kind === "chat" ? request.input.messages : [];
  if (tools.choice === "auto" && messages.at(-1)?.role === "tool") return undefined;
  const offered = new Set(tools.definitions.map((tool) => tool.name));
  const named = typeof tools.choice === "object" ? tools.choice.name : undefined;
  let calls = script.filter((call) => offered.has(call.name) && (named === undefined || call.name === named));
  if (calls.length === 0 && named !== undefined) calls = [{ name: named }];
  if (calls.length === 0) return undefined;
  if (!tools.parallel) calls = calls.slice(0, 1);
  return calls.map((call, index) => ({
    id: `call_${request.id}_${index}`,
    name: call.name,
    arguments: JSON.stringify(call.arguments ?? {}),
  }));
}

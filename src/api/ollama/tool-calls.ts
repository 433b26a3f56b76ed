/**
 * Ollama tool calling on /api/chat: `tools`, assistant `tool_calls` with arguments as an object,
 * `role: "tool"` results carrying `tool_name` (Cline), and the reply's `message.tool_calls`.
 */
import { z } from "zod";
import { AppError, type ChatMessage, type ToolCall, type ToolOptions } from "../../core/index.js";
import { jsonSchemaObject } from "../common-schema.js";

export const toolsSchema = z
  .array(
    z.object({
      type: z.literal("function", "only function tools are supported").optional(),
      function: z.object({
        name: z.string().min(1, "a tool needs a function name"),
        description: z.string().optional(),
        parameters: jsonSchemaObject.optional(),
      }),
    }),
  )
  .max(128, "at most 128 tools")
  .nullable()
  .optional();

export const messageToolCallsSchema = z
  .array(
    z.object({
      id: z.string().optional(),
      function: z.object({
        name: z.string().min(1),
        arguments: z.union([jsonSchemaObject, z.string()], "expected a JSON object or a string").optional(),
        index: z.number().int().optional(),
      }),
    }),
  )
  .nullable()
  .optional();

type WireTools = z.infer<typeof toolsSchema>;
type WireToolCalls = z.infer<typeof messageToolCallsSchema>;

/** Ollama has no tool_choice: the model decides (auto), several calls per turn allowed. */
export function toolOptions(tools: WireTools): ToolOptions | undefined {
  if (tools === undefined || tools === null || tools.length === 0) return undefined;
  return {
    definitions: tools.map(({ function: fn }) => ({
      name: fn.name,
      ...(fn.description === undefined ? {} : { description: fn.description }),
      ...(fn.parameters === undefined ? {} : { parameters: fn.parameters }),
    })),
    choice: "auto",
    parallel: true,
  };
}

/** One wire message as the engine takes it; calls without an id get one from their position. */
export function messageToNative(
  message: {
    role: ChatMessage["role"];
    content?: string | undefined;
    tool_calls?: WireToolCalls;
    tool_name?: string | undefined;
    tool_call_id?: string | undefined;
  },
  position: number,
): ChatMessage {
  const calls = message.tool_calls ?? [];
  const toolCalls: ToolCall[] = calls.map((call, index) => ({
    id: call.id ?? `call_${position}_${index}`,
    name: call.function.name,
    arguments: argumentsText(call.function.arguments),
  }));
  return {
    role: message.role,
    content: message.content ?? "",
    ...(toolCalls.length === 0 ? {} : { toolCalls }),
    ...(message.tool_name === undefined ? {} : { toolName: message.tool_name }),
    ...(message.tool_call_id === undefined ? {} : { toolCallId: message.tool_call_id }),
  };
}

function argumentsText(value: Record<string, unknown> | string | undefined): string {
  if (value === undefined) return "{}";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The reply's `tool_calls`: arguments as an object, as ollama-js types them. */
export function wireToolCalls(calls: readonly ToolCall[], firstIndex = 0) {
  return calls.map((call, index) => ({
    id: call.id,
    function: { index: firstIndex + index, name: call.name, arguments: parseArguments(call) },
  }));
}

function parseArguments(call: ToolCall): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(call.arguments);
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new AppError(
    "runner-failed",
    `The model's call of "${call.name}" has arguments that are not a JSON object.`,
  );
}

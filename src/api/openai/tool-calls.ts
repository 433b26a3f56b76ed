/**
 * OpenAI tool calling at the edge: the request fields (`tools`, `tool_choice`,
 * `parallel_tool_calls`, assistant `tool_calls`, `role: "tool"` results) and the response shapes
 * (`message.tool_calls`, streamed `delta.tool_calls[i]` pieces).
 */
import { z } from "zod";
import { AppError, type ChatMessage, type ToolCall, type ToolOptions } from "../../core/index.js";
import { jsonSchemaObject } from "../common-schema.js";

const functionDefinition = z.object({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, "a function name is 1 to 64 letters, digits, underscores or dashes"),
  description: z.string().optional(),
  parameters: jsonSchemaObject.optional(),
  strict: z.boolean().nullable().optional(),
});

export const toolsSchema = z
  .array(
    z.object({
      type: z.literal("function", "only function tools are supported"),
      function: functionDefinition,
    }),
  )
  .max(128, "at most 128 tools")
  .nullable()
  .optional();

export const toolChoiceSchema = z
  .union(
    [
      z.enum(["none", "auto", "required"]),
      z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
    ],
    'expected "none", "auto", "required" or {"type": "function", "function": {"name": …}}',
  )
  .nullable()
  .optional();

export const assistantToolCallsSchema = z
  .array(
    z.object({
      id: z.string().min(1),
      type: z.literal("function").optional(),
      function: z.object({ name: z.string().min(1), arguments: z.string() }),
    }),
  )
  .nullable()
  .optional();

interface ToolFields {
  tools?: z.infer<typeof toolsSchema>;
  tool_choice?: z.infer<typeof toolChoiceSchema>;
  parallel_tool_calls?: boolean | null | undefined;
}

/** The request's tools as the engine takes them; undefined when there are none to offer. */
export function toolOptions(body: ToolFields): ToolOptions | undefined {
  const tools = body.tools ?? [];
  const choice = body.tool_choice ?? "auto";
  if (tools.length === 0 && choice !== "auto" && choice !== "none") {
    throw new AppError(
      "bad-request",
      'Invalid "tool_choice": it asks for a tool call but the request has no tools; send tools, or tool_choice "auto".',
      { param: "tool_choice" },
    );
  }
  if (tools.length === 0 || choice === "none") return undefined;
  const definitions = tools.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description === undefined ? {} : { description: fn.description }),
    ...(fn.parameters === undefined ? {} : { parameters: fn.parameters }),
  }));
  return {
    definitions,
    choice: typeof choice === "string" ? choice : { name: choice.function.name },
    parallel: body.parallel_tool_calls !== false,
  };
}

type WireToolCalls = z.infer<typeof assistantToolCallsSchema>;

export function toolCallsToNative(calls: WireToolCalls): ToolCall[] | undefined {
  if (calls === undefined || calls === null || calls.length === 0) return undefined;
  return calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
}

/** A `role: "tool"` result names its function by the call it answers (earlier in the conversation). */
export function nameToolResults(messages: ChatMessage[]): ChatMessage[] {
  const names = new Map<string, string>();
  return messages.map((message) => {
    for (const call of message.toolCalls ?? []) names.set(call.id, call.name);
    if (message.role !== "tool" || message.toolCallId === undefined) return message;
    const name = names.get(message.toolCallId);
    return name === undefined ? message : { ...message, toolName: name };
  });
}

export function wireToolCalls(calls: readonly ToolCall[]) {
  return calls.map((call) => ({
    id: call.id,
    type: "function" as const,
    function: { name: call.name, arguments: call.arguments },
  }));
}

/** Arguments are streamed in pieces of this many characters after the piece with id and name. */
const argumentsPieceChars = 24;

/** The `delta.tool_calls` values of one call: id, type and name first, then the arguments in fragments. */
export function toolCallDeltas(index: number, call: ToolCall): unknown[] {
  const deltas: unknown[] = [
    { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
  ];
  for (let start = 0; start < call.arguments.length; start += argumentsPieceChars) {
    deltas.push({ index, function: { arguments: call.arguments.slice(start, start + argumentsPieceChars) } });
  }
  return deltas;
}

/**
 * The `delta.tool_calls` values of a stream: a call's first piece carries id, type and name,
 * later ones only argument fragments. Calls that arrive complete (an engine that sends no
 * deltas) are cut into fragments here; complete calls already streamed as deltas add nothing.
 */
export class ToolCallStream {
  readonly #started = new Set<number>();

  piece(event: { index: number; id: string; name: string; argumentsDelta: string }): unknown[] {
    const pieces: unknown[] = [];
    if (!this.#started.has(event.index)) {
      this.#started.add(event.index);
      pieces.push({
        index: event.index,
        id: event.id,
        type: "function",
        function: { name: event.name, arguments: "" },
      });
    }
    if (event.argumentsDelta.length > 0) {
      pieces.push({ index: event.index, function: { arguments: event.argumentsDelta } });
    }
    return pieces;
  }

  complete(index: number, call: ToolCall): unknown[] {
    if (this.#started.has(index)) return [];
    this.#started.add(index);
    return toolCallDeltas(index, call);
  }
}

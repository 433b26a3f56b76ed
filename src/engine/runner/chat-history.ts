/**
 * Chat messages as node-llama-cpp's chat history: an assistant turn's tool calls become
 * `functionCall` items of its model response, each with the result of the `tool` message that
 * answers it (by tool_call_id, else by tool name, else in order), so the model's own template
 * renders calls and results on the next turn.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import type { ChatMessage } from "../../core/index.js";

export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  let index = 0;
  let continuesModelTurn = false;
  while (index < messages.length) {
    const message = messages[index]!;
    index += 1;
    continuesModelTurn = false;
    if (message.role === "system" || message.role === "user") {
      history.push({ type: message.role, text: message.content });
      continue;
    }
    if (message.role === "tool") {
      // A result with no call before it: shown to the model as the user's words.
      history.push({ type: "user", text: message.content });
      continue;
    }
    // After tool results, the assistant goes on with the turn that made the calls.
    const previous = history.at(-1);
    const last = previous?.type === "model" ? previous.response.at(-1) : undefined;
    const continues = previous?.type === "model" && typeof last === "object" && last.type === "functionCall";
    const response: ChatModelResponse["response"] = continues ? previous.response : [];
    if (message.content.length > 0) response.push(message.content);
    const calls = message.toolCalls ?? [];
    if (calls.length > 0) {
      const results: ChatMessage[] = [];
      while (index < messages.length && messages[index]!.role === "tool") results.push(messages[index++]!);
      calls.forEach((call, position) => {
        const item: ChatModelFunctionCall = {
          type: "functionCall",
          name: call.name,
          params: parseArguments(call.arguments),
          result: resultFor(results, call, position)?.content ?? "",
          ...(position === 0 ? { startsNewChunk: true } : {}),
        };
        response.push(item);
      });
      // The tool results are in: the model goes on with this same turn.
      continuesModelTurn = index === messages.length;
    }
    if (!continues) history.push({ type: "model", response });
  }
  if (!continuesModelTurn) history.push({ type: "model", response: [] });
  return history;
}

function resultFor(
  results: readonly ChatMessage[],
  call: { id: string; name: string },
  position: number,
): ChatMessage | undefined {
  return (
    results.find((result) => result.toolCallId === call.id) ??
    results.find((result) => result.toolCallId === undefined && result.toolName === call.name) ??
    results[position]
  );
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

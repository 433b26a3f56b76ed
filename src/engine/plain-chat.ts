/**
 * RawrXD's plain chat fallback for models without a chat template (such as stories260K):
 * the system prompt, then one "User: …" / "Assistant: …" line per turn, ending with
 * "Assistant:" for the model to continue; "\nUser:" stops the reply. See
 * docs/decisions/0003-plain-chat-fallback.md.
 */
import type { ChatMessage } from "../core/index.js";

export function renderPlainChat(messages: readonly ChatMessage[]): string {
  const lines: string[] = [];
  for (const message of messages) {
    if (message.role === "system") lines.push(message.content, "");
    else
      lines.push(
        `${message.role === "user" ? "User" : message.role === "tool" ? "Tool" : "Assistant"}: ${message.content}`,
      );
  }
  lines.push("Assistant:");
  return lines.join("\n");
}

export const plainChatStops: readonly string[] = ["\nUser:"];

/** llama-server's /tokenize, /detokenize and /apply-template bodies (llama.vscode sends them). */
import { z } from "zod";
import type { ChatMessage } from "../../core/index.js";

const model = z.string().min(1).optional();

export const tokenizeSchema = z.object({
  /** Optional: without it, the only installed model answers. */
  model,
  content: z.string("expected content as a string"),
  add_special: z.boolean().default(false),
  parse_special: z.boolean().default(true),
  with_pieces: z.boolean().default(false),
});

export const detokenizeSchema = z.object({
  model,
  tokens: z.array(z.number().int("expected integer token ids").min(0, "token ids are 0 or more")),
});

const textPart = z.object({ type: z.literal("text"), text: z.string() });

export const applyTemplateSchema = z.object({
  model,
  messages: z
    .array(
      z.object({
        role: z.enum(["system", "developer", "user", "assistant", "tool"]),
        content: z
          .union([z.string(), z.array(textPart)])
          .nullable()
          .optional(),
      }),
    )
    .min(1, "expected at least one message"),
});

export function toChatMessages(messages: z.infer<typeof applyTemplateSchema>["messages"]): ChatMessage[] {
  return messages.map((message) => ({
    role: message.role === "developer" ? "system" : message.role,
    content:
      typeof message.content === "string"
        ? message.content
        : (message.content ?? []).map((part) => part.text).join(""),
  }));
}

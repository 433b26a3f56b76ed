/**
 * Ollama's `capabilities` for /api/show: `completion` always; `tools` when the chat template
 * renders tools; `insert` (fill-in-the-middle) when the GGUF names FIM tokens; `embedding`, as
 * every model here answers /api/embed.
 */
import { templateSupportsTools } from "../../core/index.js";
import type { ModelEntry } from "../../models/index.js";

const fimTokenKeys = [
  ["tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.fim_mid_token_id"],
  ["tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id", "tokenizer.ggml.middle_token_id"],
] as const;

export function capabilitiesOf(entry: Pick<ModelEntry, "info">): string[] {
  const capabilities = ["completion"];
  if (templateSupportsTools(entry.info.chatTemplate)) capabilities.push("tools");
  const metadata = entry.info.metadata;
  if (
    fimTokenKeys.some((keys) => keys.every((key) => ["number", "bigint"].includes(typeof metadata.get(key))))
  ) {
    capabilities.push("insert");
  }
  capabilities.push("embedding");
  return capabilities;
}

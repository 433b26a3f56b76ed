/**
 * Whether a context uses llama.cpp's flash attention (ADR 0057). node-llama-cpp 3.21.1 asks
 * llama.cpp for "auto", which turns it on on the CPU; llama-server does the same by default.
 * On the CPU its kernel is slow for narrow heads: with keys of 8–32 values per head, a decode at
 * 320 cells of context costs 1.5–2.6× what it costs without (llama-bench, tg16 @ d320), and a
 * 16-token batch 3–6× (pp16). From 64 values per head up it wins (tg32 1.1–1.6×, pp512
 * 1.0–1.3× on the 134M model and a 64-wide synthetic model). So `auto` turns it off for narrow
 * heads on the CPU and leaves node-llama-cpp's own choice everywhere else.
 */
import type { LlamaModel } from "node-llama-cpp";

export type FlashAttentionSetting = "auto" | "on" | "off";

/** Key values per attention head at or below which the CPU's flash attention loses. */
export const narrowHeadKeyLength = 32;

export interface FlashAttentionChoice {
  /** What the context is created with: node-llama-cpp's `flashAttention` option. */
  option: boolean | "auto";
  reason: string;
}

export function chooseFlashAttention(
  setting: FlashAttentionSetting,
  model: { keyLength: number | undefined; gpuLayers: number },
): FlashAttentionChoice {
  if (setting !== "auto") return { option: setting === "on", reason: `--flash-attention ${setting}` };
  if (model.gpuLayers > 0) return { option: "auto", reason: "llama.cpp's choice: layers on a GPU" };
  const keyLength = model.keyLength;
  if (keyLength !== undefined && keyLength > 0 && keyLength <= narrowHeadKeyLength) {
    return {
      option: false,
      reason: `off: ${keyLength} key values per head, on the CPU (its flash attention is slower up to ${narrowHeadKeyLength})`,
    };
  }
  return { option: "auto", reason: "llama.cpp's choice" };
}

/** Key values per attention head, from the model's GGUF metadata (`key_length`, else width ÷ heads). */
export function keyLengthOf(model: LlamaModel): number | undefined {
  const metadata = model.fileInfo.architectureMetadata as {
    embedding_length?: number;
    attention?: { head_count?: number | readonly number[]; key_length?: number };
  };
  const explicit = metadata.attention?.key_length;
  if (typeof explicit === "number" && explicit > 0) return explicit;
  const heads = metadata.attention?.head_count;
  const headCount = typeof heads === "number" ? heads : undefined;
  const width = metadata.embedding_length;
  if (headCount === undefined || headCount <= 0 || width === undefined) return undefined;
  return Math.floor(width / headCount);
}

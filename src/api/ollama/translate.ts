/** Pure translation between Ollama wire shapes and the native request and events. */
import { parseDurationMs } from "../../config/index.js";
import { AppError, type GenerateRequest, type Priority } from "../../core/index.js";
import { toStopList } from "../common-schema.js";
import type { ChatBody, GenerateBody, OllamaOptions } from "./schema.js";
import { messageToNative, toolOptions } from "./tool-calls.js";

interface Common {
  id: string;
  priority: Priority;
  maxTokensLimit: number;
}

/** Ollama's sampling defaults (temperature 0.8, top_k 40, top_p 0.9, repeat_penalty 1.1 over 64). */
function sampling(options: OllamaOptions | undefined): GenerateRequest["sampling"] {
  return {
    temperature: options?.temperature ?? 0.8,
    topK: options?.top_k ?? 40,
    topP: options?.top_p ?? 0.9,
    ...(options?.min_p === undefined ? {} : { minP: options.min_p }),
    ...(options?.seed === undefined ? {} : { seed: options.seed }),
    repeatPenalty: options?.repeat_penalty ?? 1.1,
    repeatLastN: options?.repeat_last_n === -1 ? 4096 : (options?.repeat_last_n ?? 64),
    ...(options?.frequency_penalty === undefined ? {} : { frequencyPenalty: options.frequency_penalty }),
    ...(options?.presence_penalty === undefined ? {} : { presencePenalty: options.presence_penalty }),
  };
}

function base(body: GenerateBody | ChatBody, common: Common): Omit<GenerateRequest, "input"> {
  const numPredict = body.options?.num_predict;
  return {
    id: common.id,
    model: body.model,
    maxTokens: numPredict === undefined || numPredict < 0 ? common.maxTokensLimit : numPredict,
    contextLimitTokens: body.options?.num_ctx,
    stop: toStopList(body.options?.stop),
    sampling: sampling(body.options),
    json:
      body.format === undefined || body.format === ""
        ? undefined
        : body.format === "json"
          ? {}
          : { schema: body.format },
    reportProgress: body.return_progress === true,
    priority: common.priority,
  };
}

export function generateToNative(body: GenerateBody, common: Common): GenerateRequest {
  const prompt = body.prompt ?? "";
  // As Ollama: a non-empty suffix makes it fill-in-the-middle (the model's FIM tokens, no template).
  const input: GenerateRequest["input"] =
    body.suffix !== undefined && body.suffix !== ""
      ? { kind: "infill", prefix: prompt, suffix: body.suffix }
      : body.raw === true
        ? { kind: "text", prompt, raw: true }
        : { kind: "instruction", prompt, system: body.system };
  return { ...base(body, common), input };
}

export function chatToNative(body: ChatBody, common: Common): GenerateRequest {
  const tools = toolOptions(body.tools);
  return {
    ...base(body, common),
    input: { kind: "chat", messages: (body.messages ?? []).map(messageToNative) },
    ...(tools === undefined ? {} : { tools }),
  };
}

/** keep_alive: a duration string ("5m"), a number of seconds, 0 = unload now, negative = forever. */
export function keepAliveMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDurationMs(String(value));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("bad-request", `Invalid keep_alive: ${reason}.`, { param: "keep_alive" });
  }
}

export function nanoseconds(ms: number): number {
  return Math.round(ms * 1e6);
}

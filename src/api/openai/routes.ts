/** OpenAI-compatible routes: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings. */
import type { Context, Hono } from "hono";
import {
  forEachTextPiece,
  textFrameTemplate,
  type StreamEvent,
  type TokenLogprob,
} from "../../core/index.js";
import { claimRequest, grantPriority, requestOrigin } from "../caller.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import type { ModelFile } from "../../models/index.js";
import { forClient, redactorFor } from "../client-paths.js";
import { errorBody } from "../error-status.js";
import { toAppError } from "../../core/index.js";
import { formatEvents, type EventFormat } from "../event-frames.js";
import { respondWithFrames } from "../frame-writer.js";
import { socketLenderFor } from "../stream-lend-choice.js";
import { collect, startGeneration } from "../generation.js";
import { withFimOrder } from "../infill/infill-body.js";
import { endingCancelledAsError } from "../cancelled-ending.js";
import { generationSignal } from "../request-groups.js";
import { clientSignalOf } from "../node-request.js";
import { readJson } from "../request-body.js";
import { chatLogprobs, completionLogprobs } from "./logprobs.js";
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema } from "./schema.js";
import { chatToNative, completionToNative, finishReason, toBase64Floats, usageBody } from "./translate.js";
import { ToolCallStream, wireToolCalls } from "./tool-calls.js";

type Kind = "chat" | "completion";

interface Schemas {
  chat: ReturnType<typeof chatRequestSchema>;
  completion: ReturnType<typeof completionRequestSchema>;
}

export function mountOpenAiRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  // Built once: building a zod schema costs milliseconds, parsing with it microseconds.
  const schemas: Schemas = {
    chat: chatRequestSchema(deps.config.maxTokensLimit),
    completion: completionRequestSchema(deps.config.maxTokensLimit),
  };
  app.get("/v1/models", (context) => listModels(context, deps));
  app.get("/v1/models/:id", async (context) =>
    context.json(modelObject(await deps.catalog.resolveFile(context.req.param("id")))),
  );
  app.post("/v1/chat/completions", (context) => generate(context, { deps, schemas, kind: "chat" }));
  app.post("/v1/completions", (context) => generate(context, { deps, schemas, kind: "completion" }));
  app.post("/v1/embeddings", (context) => embeddings(context, deps));
}

async function listModels(context: Context<ApiEnv>, deps: ApiDeps): Promise<Response> {
  const models = await deps.catalog.list();
  return context.json({ object: "list", data: models.map(modelObject) });
}

function modelObject(model: ModelFile) {
  return {
    id: model.name,
    object: "model",
    created: Math.floor(model.modifiedAt.getTime() / 1000),
    // The bundled demo model, offered while the models folder is empty, says so.
    owned_by: model.isDemo === true ? "rawrxd-demo" : "rawrxd",
  };
}

async function generate(
  context: Context<ApiEnv>,
  route: { deps: ApiDeps; schemas: Schemas; kind: Kind },
): Promise<Response> {
  const { deps, schemas, kind } = route;
  const { config } = deps;
  const id = context.get("requestId");
  const options = { id, maxTokensDefault: config.maxTokensLimit };
  let request;
  let stream: boolean;
  let includeUsage: boolean;
  if (kind === "chat") {
    const body = await readJson(context, schemas.chat, config.maxBodyBytes);
    request = chatToNative(body, {
      ...options,
      priority: grantPriority(context, body.priority),
    });
    stream = body.stream === true;
    includeUsage = body.stream_options?.include_usage === true;
  } else {
    const body = await readJson(context, schemas.completion, config.maxBodyBytes);
    request = completionToNative(body, {
      ...options,
      priority: grantPriority(context, body.priority),
    });
    stream = body.stream === true;
    includeUsage = body.stream_options?.include_usage === true;
  }
  const signal = generationSignal(context, deps);
  const started = await startGeneration(
    deps.queue,
    withFimOrder({ ...request, ...requestOrigin(context) }, config.fimOrder),
    {
      ...claimRequest(context),
      clientSignal: signal,
      drain: deps.drain,
      audit: deps.audit,
    },
  );
  const created = Math.floor(deps.time.wallNow() / 1000);
  const shape = { id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${id}`, created, model: request.model, kind };
  if (!stream) {
    const result = await collect(endingCancelledAsError(started.events, signal, id));
    const choice =
      kind === "chat"
        ? {
            index: 0,
            message:
              result.toolCalls.length === 0
                ? { role: "assistant", content: result.text }
                : {
                    role: "assistant",
                    content: result.text.length === 0 ? null : result.text,
                    tool_calls: wireToolCalls(result.toolCalls),
                  },
            logprobs: result.logprobs === undefined ? null : chatLogprobs(result.logprobs),
            finish_reason: finishReason(result.reason),
          }
        : {
            index: 0,
            text: result.text,
            logprobs: result.logprobs === undefined ? null : completionLogprobs(result.logprobs),
            finish_reason: finishReason(result.reason),
          };
    return context.json({
      id: shape.id,
      object: kind === "chat" ? "chat.completion" : "text_completion",
      created,
      model: request.model,
      choices: [choice],
      usage: usageBody(result.usage),
    });
  }
  const format = sseFormat({ ...shape, includeUsage, redact: redactorFor(config) });
  const frames = formatEvents(started.events, format, { signal, requestId: id });
  return respondWithFrames(context, frames, {
    contentType: "text/event-stream",
    requestId: id,
    lend: socketLenderFor(deps, { request, started, format }),
    heartbeat: { intervalMs: deps.config.heartbeatMs, frame: ": ping\n\n" },
    onCancel: () => void started.close(),
    clientSignal: signal,
    time: deps.time,
  });
}

interface ChunkShape {
  id: string;
  created: number;
  model: string;
  kind: Kind;
  includeUsage: boolean;
  /** Hides server paths in an error sent mid-stream. */
  redact: (message: string) => string;
}

function data(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** OpenAI's server-sent events, one `data:` event per chunk, `[DONE]` after the end. */
function sseFormat(shape: ChunkShape): EventFormat {
  const object = shape.kind === "chat" ? "chat.completion.chunk" : "text_completion";
  const usageNull = shape.includeUsage ? { usage: null } : {};
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id: shape.id,
    object,
    created: shape.created,
    model: shape.model,
    choices,
    ...usageNull,
    ...extra,
  });
  const choice = (text: string | undefined, reason: string | null, role?: string) =>
    shape.kind === "chat"
      ? {
          index: 0,
          delta: {
            ...(role === undefined ? {} : { role }),
            ...(text === undefined ? {} : { content: text }),
          },
          logprobs: null,
          finish_reason: reason,
        }
      : { index: 0, text: text ?? "", logprobs: null, finish_reason: reason };
  const template = JSON.stringify(chunk([choice("\u0000", null)]));
  const [before, after] = template.split('"\\u0000"') as [string, string];
  const deltaPrefix = `data: ${before}`;
  const deltaSuffix = `${after}\n\n`;
  const toolCalls = new ToolCallStream();
  const frames = (event: StreamEvent): string => {
    if (event.type === "progress") {
      return data(
        chunk([], {
          prompt_progress: {
            total: event.totalTokens,
            cache: event.cachedTokens,
            processed: event.processedTokens,
          },
        }),
      );
    }
    if (event.type === "text-delta") {
      if (event.logprobs !== undefined)
        return data(chunk([withLogprobs(choice(event.text, null), shape.kind, event.logprobs)]));
      // The per-token frame: built from a prepared prefix, only the text is serialised. One
      // frame per piece of a delta the runner joined (ADR 0039), all in one string.
      let text = "";
      forEachTextPiece(event, (piece) => {
        text += deltaPrefix + JSON.stringify(piece) + deltaSuffix;
      });
      return text;
    }
    if (event.type === "tool-call-delta" || event.type === "tool-call") {
      const pieces =
        event.type === "tool-call" ? toolCalls.complete(event.index, event.call) : toolCalls.piece(event);
      let text = "";
      for (const piece of pieces)
        text += data(
          chunk([{ index: 0, delta: { tool_calls: [piece] }, logprobs: null, finish_reason: null }]),
        );
      return text;
    }
    let text = data(chunk([choice(shape.kind === "chat" ? undefined : "", finishReason(event.reason))]));
    if (shape.includeUsage)
      text += data({
        id: shape.id,
        object,
        created: shape.created,
        model: shape.model,
        choices: [],
        usage: usageBody(event.usage),
      });
    return text + "data: [DONE]\n\n";
  };
  return {
    opening: shape.kind === "chat" ? data(chunk([choice("", null, "assistant")])) : "",
    frames,
    // After the first byte the status is sent: report the error as one event, then end.
    error: (error) => data(errorBody(forClient(toAppError(error), shape.redact), "openai")),
    textFrame: textFrameTemplate(`${deltaPrefix}"\\u0000"${deltaSuffix}`),
  };
}

function withLogprobs(choice: object, kind: Kind, logprobs: TokenLogprob[]): object {
  return { ...choice, logprobs: kind === "chat" ? chatLogprobs(logprobs) : completionLogprobs(logprobs) };
}

async function embeddings(context: Context<ApiEnv>, deps: ApiDeps): Promise<Response> {
  const body = await readJson(context, embeddingRequestSchema, deps.config.maxBodyBytes);
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  const id = context.get("requestId");
  const leave = deps.drain.enter();
  const result = await deps.queue
    .embed({ id, model: body.model, inputs }, { signal: clientSignalOf(context) })
    .finally(leave);
  return context.json({
    object: "list",
    data: result.vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? toBase64Floats(vector) : vector,
    })),
    model: body.model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  });
}

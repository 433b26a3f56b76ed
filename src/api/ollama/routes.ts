/** Ollama-compatible routes: generate, chat, embed, tags, ps, show, version (NDJSON streaming). */
import type { Context, Hono } from "hono";
import {
  forEachTextPiece,
  textFrameTemplate,
  textSlotMarker,
  timeSlotMarker,
  toAppError,
  type MonotonicMs,
  type StreamEvent,
  type TimePort,
} from "../../core/index.js";
import { claimRequest, grantPriority, requestOrigin } from "../caller.js";
import { redactorFor } from "../client-paths.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import { formatEvents, type EventFormat } from "../event-frames.js";
import { respondWithFrames } from "../frame-writer.js";
import { socketLenderFor } from "../stream-lend-choice.js";
import { collect, startGeneration } from "../generation.js";
import { withFimOrder } from "../infill/infill-body.js";
import { endingCancelledAsError } from "../cancelled-ending.js";
import { generationSignal } from "../request-groups.js";
import { clientSignalOf } from "../node-request.js";
import { readJson } from "../request-body.js";
import { chatRequestSchema, embedRequestSchema, generateRequestSchema, showRequestSchema } from "./schema.js";
import { showBody, psBody, tagsBody } from "./model-views.js";
import { chatToNative, generateToNative, keepAliveMs, nanoseconds } from "./translate.js";
import { wireToolCalls } from "./tool-calls.js";

type Kind = "generate" | "chat";

interface Schemas {
  generate: ReturnType<typeof generateRequestSchema>;
  chat: ReturnType<typeof chatRequestSchema>;
}

export function mountOllamaRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  // Built once: building a zod schema costs milliseconds, parsing with it microseconds.
  const schemas: Schemas = {
    generate: generateRequestSchema(deps.config.maxTokensLimit),
    chat: chatRequestSchema(deps.config.maxTokensLimit),
  };
  app.get("/api/version", (context) => context.json({ version: deps.version }));
  app.get("/api/tags", async (context) => context.json(tagsBody(await deps.catalog.list())));
  app.get("/api/ps", async (context) => context.json(await psBody(deps)));
  app.post("/api/show", async (context) => {
    const body = await readJson(context, showRequestSchema, deps.config.maxBodyBytes);
    return context.json(showBody(await deps.catalog.resolve((body.model ?? body.name)!)));
  });
  app.post("/api/generate", (context) => generate(context, { deps, schemas, kind: "generate" }));
  app.post("/api/chat", (context) => generate(context, { deps, schemas, kind: "chat" }));
  app.post("/api/embed", (context) => embed(context, deps));
}

function isBlank(value: string | undefined): boolean {
  return value === undefined || value === "";
}

async function generate(
  context: Context<ApiEnv>,
  route: { deps: ApiDeps; schemas: Schemas; kind: Kind },
): Promise<Response> {
  const { deps, schemas, kind } = route;
  const startedMs = deps.time.monotonicNow();
  const { config } = deps;
  const id = context.get("requestId");
  const body =
    kind === "generate"
      ? await readJson(context, schemas.generate, config.maxBodyBytes)
      : await readJson(context, schemas.chat, config.maxBodyBytes);
  const common = {
    id,
    priority: grantPriority(context, body.priority),
    maxTokensLimit: config.maxTokensLimit,
  };
  const keepAlive = keepAliveMs(body.keep_alive);
  const isEmpty =
    "messages" in body
      ? (body.messages ?? []).length === 0
      : isBlank((body as { prompt?: string }).prompt) && isBlank((body as { suffix?: string }).suffix);
  if (isEmpty) return loadOrUnload(context, deps, { model: body.model, kind, keepAliveMs: keepAlive });
  const request = "messages" in body ? chatToNative(body, common) : generateToNative(body, common);
  const signal = generationSignal(context, deps);
  const started = await startGeneration(
    deps.queue,
    withFimOrder({ ...request, ...requestOrigin(context) }, config.fimOrder),
    {
      ...claimRequest(context),
      clientSignal: signal,
      keepAliveMs: keepAlive,
      drain: deps.drain,
      audit: deps.audit,
    },
  );
  if (body.stream === false) {
    const result = await collect(endingCancelledAsError(started.events, signal, id));
    const reply = piece({ kind, model: request.model, time: deps.time }, result.text);
    if (result.toolCalls.length > 0)
      (reply["message"] as Record<string, unknown>)["tool_calls"] = wireToolCalls(result.toolCalls);
    return context.json({
      ...reply,
      ...final(
        result.reason,
        { usage: result.usage, timings: result.timings },
        deps.time.monotonicNow() - startedMs,
      ),
    });
  }
  const format = ndjsonFormat({
    kind,
    model: request.model,
    time: deps.time,
    startedMs,
    redact: redactorFor(config),
  });
  const frames = formatEvents(started.events, format, { signal, requestId: id });
  return respondWithFrames(context, frames, {
    contentType: "application/x-ndjson",
    requestId: id,
    lend: socketLenderFor(deps, { request, started, format }),
    onCancel: () => void started.close(),
    clientSignal: signal,
    time: deps.time,
  });
}

/** Who a reply line is for, and the clock that stamps it. */
interface ReplyShape {
  kind: Kind;
  model: string;
  time: TimePort;
}

function piece(shape: ReplyShape, text: string, createdAt?: string): Record<string, unknown> {
  const base = { model: shape.model, created_at: createdAt ?? new Date(shape.time.wallNow()).toISOString() };
  return shape.kind === "chat"
    ? { ...base, message: { role: "assistant", content: text } }
    : { ...base, response: text };
}

function final(
  reason: string,
  end: Pick<Extract<StreamEvent, { type: "end" }>, "usage" | "timings">,
  totalMs: number,
): Record<string, unknown> {
  return {
    done: true,
    done_reason: reason === "length" ? "length" : "stop",
    // From the request's arrival: queue wait, load, prompt and decode.
    total_duration: nanoseconds(totalMs),
    load_duration: nanoseconds(end.timings.loadMs),
    prompt_eval_count: end.usage.promptTokens - end.usage.cachedTokens,
    prompt_eval_duration: nanoseconds(end.timings.promptMs),
    eval_count: end.usage.completionTokens,
    eval_duration: nanoseconds(end.timings.decodeMs),
    // RawrXD extension (llama-server's names): speculative decoding's drafted and accepted tokens.
    ...(end.usage.draftedTokens === undefined
      ? {}
      : { draft_n: end.usage.draftedTokens, draft_n_accepted: end.usage.acceptedTokens ?? 0 }),
  };
}

/** Ollama's NDJSON: one JSON line per piece, a final line with the counts. */
function ndjsonFormat(
  shape: ReplyShape & { startedMs: MonotonicMs; redact: (message: string) => string },
): EventFormat {
  const line = (value: unknown): string => JSON.stringify(value) + "\n";
  const frames = (event: StreamEvent): string => {
    if (event.type === "progress") {
      return line({
        model: shape.model,
        created_at: new Date(shape.time.wallNow()).toISOString(),
        prompt_progress: {
          total: event.totalTokens,
          cache: event.cachedTokens,
          processed: event.processedTokens,
        },
        done: false,
      });
    }
    if (event.type === "text-delta") {
      // One line per piece of a delta the runner joined (ADR 0039), all in one string, each
      // built from a template stamped once per delta: only the text is serialised.
      const [before, after] = line({ ...piece(shape, "\u0000"), done: false }).split('"\\u0000"') as [
        string,
        string,
      ];
      let lines = "";
      forEachTextPiece(event, (text) => {
        lines += before + JSON.stringify(text) + after;
      });
      return lines;
    }
    // Ollama sends calls whole: the complete `tool-call` follows.
    if (event.type === "tool-call-delta") return "";
    if (event.type === "tool-call") {
      // Ollama sends each complete call in a message of its own, arguments as an object.
      const message = {
        role: "assistant",
        content: "",
        tool_calls: wireToolCalls([event.call], event.index),
      };
      return line({ ...piece(shape, ""), message, done: false });
    }
    return line({
      ...piece(shape, ""),
      ...final(event.reason, event, shape.time.monotonicNow() - shape.startedMs),
    });
  };
  return {
    opening: "",
    frames,
    // After the first line the status is sent: one error line, then the stream ends.
    error: (error) => line({ error: shape.redact(toAppError(error).message) }),
    // A text line as the runner stamps it when it writes a lent stream (ADR 0056).
    textFrame: textFrameTemplate(line({ ...piece(shape, textSlotMarker, timeSlotMarker), done: false })),
  };
}

/** Ollama: an empty prompt loads the model (done_reason "load"), or unloads it with keep_alive 0. */
async function loadOrUnload(
  context: Context<ApiEnv>,
  deps: ApiDeps,
  request: { model: string; kind: Kind; keepAliveMs: number | undefined },
): Promise<Response> {
  const entry = await deps.catalog.resolve(request.model);
  const reply = { kind: request.kind, model: entry.name, time: deps.time };
  const leave = deps.drain.enter();
  try {
    if (request.keepAliveMs === 0) {
      await deps.queue.unload(entry.name);
      return context.json({ ...piece(reply, ""), done: true, done_reason: "unload" });
    }
    await deps.queue.preload(entry.name, {
      signal: clientSignalOf(context),
      keepAliveMs: request.keepAliveMs,
    });
    return context.json({ ...piece(reply, ""), done: true, done_reason: "load" });
  } finally {
    leave();
  }
}

async function embed(context: Context<ApiEnv>, deps: ApiDeps): Promise<Response> {
  const body = await readJson(context, embedRequestSchema, deps.config.maxBodyBytes);
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  const startedMs = deps.time.monotonicNow();
  const leave = deps.drain.enter();
  const result = await deps.queue
    .embed(
      { id: context.get("requestId"), model: body.model, inputs },
      { signal: clientSignalOf(context), keepAliveMs: keepAliveMs(body.keep_alive) },
    )
    .finally(leave);
  return context.json({
    model: body.model,
    embeddings: result.vectors,
    total_duration: nanoseconds(deps.time.monotonicNow() - startedMs),
    load_duration: 0,
    prompt_eval_count: result.promptTokens,
  });
}

/**
 * llama-server's `POST /infill` (llama.vscode's completion endpoint): fill-in-the-middle with the
 * model's FIM tokens. `content` for one completion, an array of completions for n_cmpl > 1, SSE
 * chunks `{content, stop}` with stream: true. Without `model`, the only installed model answers.
 */
import type { Context, Hono } from "hono";
import { AppError, forEachTextPiece, toAppError } from "../../core/index.js";
import { grantPriority, requestOrigin } from "../caller.js";
import { forClient, redactorFor } from "../client-paths.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import { errorBody } from "../error-status.js";
import { formatEvents, type EventFormat } from "../event-frames.js";
import { respondWithFrames } from "../frame-writer.js";
import { onlyModel } from "../default-model.js";
import { collect, startGeneration, type StartedGeneration } from "../generation.js";
import { generationSignal, isSuperseded, supersededError } from "../request-groups.js";
import { readJson } from "../request-body.js";
import { completionBody, infillToNative, timingsBody, withFimOrder } from "./infill-body.js";
import { infillRequestSchema, type InfillBody } from "./schema.js";

export function mountInfillRoute(app: Hono<ApiEnv>, deps: ApiDeps): void {
  const schema = infillRequestSchema(deps.config.maxTokensLimit);
  app.post("/infill", async (context) => {
    const body = await readJson(context, schema, deps.config.maxBodyBytes);
    return infill(context, deps, body);
  });
  // llama-server's /props, as llama.vscode reads it: the context per sequence sizes its chunks.
  app.get("/props", (context) =>
    context.json({
      default_generation_settings: { n_ctx: deps.config.contextTokens, params: { n_predict: -1 } },
      total_slots: deps.config.parallel,
      build_info: `rawrxd ${deps.version}`,
    }),
  );
}

async function infill(context: Context<ApiEnv>, deps: ApiDeps, body: InfillBody): Promise<Response> {
  const model = body.model ?? (await onlyModel(deps, "/infill"));
  const count = body.n_cmpl ?? 1;
  if (count > 1 && body.stream === true)
    throw new AppError("bad-request", "n_cmpl > 1 cannot be streamed; send stream: false.", {
      param: "n_cmpl",
    });
  const id = context.get("requestId");
  const priority = grantPriority(context, body.priority);
  const signal = generationSignal(context, deps);
  const isWarmUp = body.n_predict === 0;
  const start = (index: number): Promise<StartedGeneration> => {
    const requestId = count === 1 ? id : `${id}-${index}`;
    const request = infillToNative(body, {
      id: requestId,
      model,
      priority,
      maxTokensLimit: deps.config.maxTokensLimit,
    });
    const keyId = context.get("caller").keyId;
    return startGeneration(
      deps.queue,
      withFimOrder({ ...request, ...requestOrigin(context) }, deps.config.fimOrder),
      {
        onLeave: context.get("requestOwners").track(requestId, keyId),
        clientSignal: signal,
        drain: deps.drain,
        audit: deps.audit,
      },
    );
  };
  if (body.stream === true) {
    const started = await start(0);
    const frames = formatEvents(
      started.events,
      infillFormat({ model, redact: redactorFor(deps.config) }),
      undefined,
    );
    return respondWithFrames(context, frames, {
      contentType: "text/event-stream",
      requestId: id,
      heartbeat: { intervalMs: deps.config.heartbeatMs, frame: ": ping\n\n" },
      onCancel: () => void started.close(),
      clientSignal: signal,
      time: deps.time,
    });
  }
  // The completions run side by side when the model has free sequences, else one after another;
  // each is read as it runs (a start waits for its first token, so waiting for all the starts
  // before reading would deadlock with one sequence). One that fails fails the request; the others
  // are still read to their end, which releases their sequences.
  const results = await Promise.all(
    Array.from({ length: count }, async (_, index) => collect((await start(index)).events)),
  );
  if (results.some((result) => result.reason === "cancelled") && isSuperseded(signal))
    throw supersededError();
  const bodies = results.map((result, index) => completionBody(result, { index, model, isWarmUp }));
  return context.json(count === 1 ? bodies[0] : bodies);
}

/** llama.cpp's /infill stream: one `data:` event per piece, a last one with `stop: true` and the counts. */
function infillFormat(shape: { model: string; redact: (message: string) => string }): EventFormat {
  const data = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;
  return {
    opening: "",
    frames: (event) => {
      if (event.type === "text-delta") {
        // One event per piece of a delta the runner joined (ADR 0039), all in one string.
        let frames = "";
        forEachTextPiece(event, (content) => {
          frames += data({ index: 0, content, stop: false, id_slot: -1 });
        });
        return frames;
      }
      if (event.type !== "end") return "";
      return data({
        index: 0,
        content: "",
        stop: true,
        id_slot: -1,
        model: shape.model,
        stop_type: event.reason === "length" ? "limit" : "eos",
        tokens_predicted: event.usage.completionTokens,
        tokens_evaluated: event.usage.promptTokens,
        tokens_cached: event.usage.cachedTokens,
        timings: timingsBody(event.usage, event.timings),
      });
    },
    error: (error) => data(errorBody(forClient(toAppError(error), shape.redact), "native")),
  };
}

/**
 * `POST /api/pull {name | model, stream}` on the server: downloads a GGUF (an http(s) URL or
 * `hf:owner/repo/file.gguf`) into the models folder with `pullModel` (resumable: a cancelled
 * pull keeps its partial file, the next one continues it). Streams NDJSON progress as `ollama
 * pull` shows it (`status`, `digest`, `total`, `completed`), ending with `{"status":"success"}`;
 * an error mid-stream is one `{"error": "..."}` line. Admin-only once keys exist.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppError, toAppError } from "../../core/index.js";
import {
  defaultHuggingFaceEndpoint,
  modelNameFromFileName,
  parsePullSource,
  pullModel,
} from "../../models/index.js";
import { forClient, redactorFor } from "../client-paths.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import { errorBody } from "../error-status.js";
import { frameStream, streamHeaders } from "../event-stream.js";
import { ignored } from "../common-schema.js";
import { readJson } from "../request-body.js";

const pullSchema = z
  .object({
    name: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    stream: z.boolean().optional(),
    insecure: ignored,
  })
  .refine((body) => body.name !== undefined || body.model !== undefined, "name is required");

/** A progress line at most every this many bytes (and at the end). */
const progressStepBytes = 4 * 1024 * 1024;

type PullLine = Record<string, unknown>;

export function mountPullRoute(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.post("/api/pull", async (context) => {
    const body = await readJson(context, pullSchema, deps.config.maxBodyBytes);
    return pull(context, deps, { source: (body.model ?? body.name)!, stream: body.stream !== false });
  });
}

async function pull(
  context: Context<ApiEnv>,
  deps: ApiDeps,
  request: { source: string; stream: boolean },
): Promise<Response> {
  const keyId = context.get("caller").keyId;
  const endpoint = process.env["HF_ENDPOINT"] ?? defaultHuggingFaceEndpoint;
  // Bad sources answer 400 before any byte is streamed.
  const parsed = parsePullSource(request.source, { endpoint });
  const name = modelNameFromFileName(parsed.fileName);
  const signal = context.req.raw.signal;
  const lines = new LineQueue();
  const isPresent = name !== undefined && (await isInstalled(deps, name));
  const done = (async (): Promise<void> => {
    lines.push({ status: "pulling manifest" });
    if (isPresent) {
      lines.push({ status: `${name} is already in the models folder` });
      return;
    }
    const status = `pulling ${name ?? parsed.fileName}`;
    let lastReported = -progressStepBytes;
    const result = await pullModel(request.source, {
      modelsDir: deps.catalog.modelsDir,
      endpoint,
      signal,
      onProgress: (progress) => {
        const isLast = progress.totalBytes !== undefined && progress.downloadedBytes >= progress.totalBytes;
        if (!isLast && progress.downloadedBytes - lastReported < progressStepBytes) return;
        lastReported = progress.downloadedBytes;
        lines.push({
          status,
          digest: "",
          ...(progress.totalBytes === undefined ? {} : { total: progress.totalBytes }),
          completed: progress.downloadedBytes,
        });
      },
    });
    lines.push({ status, digest: `sha256:${result.sha256}`, total: result.bytes, completed: result.bytes });
    lines.push({ status: "verifying sha256 digest" });
    lines.push({ status: "writing manifest" });
    deps.logger.info(`Pulled model "${result.name}" through /api/pull (${result.bytes} bytes).`);
    deps.events?.emit("model-file-changed", {
      action: "pull",
      model: result.name,
      keyId,
      details: { bytes: result.bytes, sha256: result.sha256 },
    });
  })().then(
    () => lines.end({ status: "success" }),
    (error: unknown) => lines.fail(error),
  );
  if (!request.stream) {
    await done;
    const error = lines.error;
    if (error !== undefined) throw toAppError(error);
    return context.json({ status: "success" });
  }
  const redact = redactorFor(deps.config);
  async function* frames(): AsyncGenerator<string> {
    for await (const line of lines) yield `${JSON.stringify(line)}\n`;
    if (lines.error !== undefined)
      yield `${JSON.stringify(errorBody(forClient(toAppError(lines.error), redact), "ollama"))}\n`;
  }
  const body = frameStream(frames(), { onCancel: () => undefined, clientSignal: signal, time: deps.time });
  return new Response(body, { headers: streamHeaders("application/x-ndjson", context.get("requestId")) });
}

/** Whether the folder has the model (without hashing every file, as a listing would). */
async function isInstalled(deps: ApiDeps, name: string): Promise<boolean> {
  try {
    const file = await deps.catalog.resolveFile(name);
    return file.isDemo !== true;
  } catch (error) {
    if (error instanceof AppError && error.code === "model-not-found") return false;
    throw error;
  }
}

/** Lines produced by the pull, read by the stream at its own pace. */
class LineQueue implements AsyncIterable<PullLine> {
  readonly #lines: PullLine[] = [];
  #wake: (() => void) | undefined;
  #isEnded = false;
  error: unknown;

  push(line: PullLine): void {
    this.#lines.push(line);
    this.#wake?.();
  }

  end(line: PullLine): void {
    this.push(line);
    this.#isEnded = true;
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.error = error;
    this.#isEnded = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<PullLine> {
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (this.#isEnded) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

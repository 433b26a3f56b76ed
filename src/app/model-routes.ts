/**
 * Model management for the shell (admin): GGUF details with the memory estimate before loading,
 * files that failed validation, and load / unload / pin through the scheduler.
 *   GET  /v1/models/{name}/details   header summary and the planned memory (what loading would take)
 *   GET  /v1/model-files             every *.gguf file: valid ones, and invalid ones with their error
 *   POST /v1/models/{name}/load      loads it with the default keep-alive
 *   POST /v1/models/{name}/pin       loads it and keeps it loaded until unloaded (keep_alive -1)
 *   POST /v1/models/{name}/unload    unloads it now (its running requests fail)
 */
import { basename } from "node:path";
import { Hono, type Context } from "hono";
import type { ModelCatalog } from "../models/index.js";
import type { MemoryEstimate, ResolvedModel, Scheduler } from "../scheduler/index.js";

export interface ModelRoutesOptions {
  catalog: ModelCatalog;
  queue: Scheduler;
  /** What the scheduler would reserve for the model (the same estimate it plans loads with). */
  estimateMemory: (model: ResolvedModel) => MemoryEstimate;
}

const keepForever = -1;

export function createModelRoutes(options: ModelRoutesOptions): Hono {
  const { catalog, queue } = options;
  const routes = new Hono();
  routes.get("/v1/models/:name/details", async (context) => {
    const file = await catalog.resolveFile(context.req.param("name"));
    const { info } = file;
    const estimate = options.estimateMemory({ name: file.name, path: file.path, info });
    const loaded = queue.snapshot().loaded.find((model) => model.name === file.name);
    return context.json({
      name: file.name,
      size_bytes: file.sizeBytes,
      modified_at: file.modifiedAt.toISOString(),
      architecture: info.architecture,
      general_name: info.name ?? null,
      gguf_version: info.version,
      parameters: info.parameterCount,
      quantization: info.quantization,
      context_length: info.contextLength ?? null,
      embedding_length: info.embeddingLength ?? null,
      block_count: info.blockCount ?? null,
      head_count: info.headCount ?? null,
      tensors: info.tensors.length,
      chat_template: info.chatTemplate !== undefined,
      memory_estimate: {
        total_bytes: estimate.totalBytes,
        weights_bytes: estimate.weightsBytes,
        kv_cache_bytes: estimate.kvCacheBytes,
        compute_bytes: estimate.computeBytes,
      },
      loaded: loaded !== undefined,
    });
  });
  routes.get("/v1/model-files", async (context) => {
    const scan = await catalog.scan();
    return context.json({
      models: scan.models.map((model) => ({ name: model.name, size_bytes: model.sizeBytes })),
      invalid: scan.invalid.map((file) => ({
        name: file.name,
        size_bytes: file.sizeBytes,
        // HTTP bodies never carry server paths: the file is named by its name only.
        error: file.error
          .split(file.path)
          .join(basename(file.path))
          .split(catalog.modelsDir)
          .join("<models>"),
        error_code: file.errorCode,
      })),
    });
  });
  routes.post("/v1/models/:name/load", (context) => load(context, { queue, catalog }));
  routes.post("/v1/models/:name/pin", (context) =>
    load(context, { queue, catalog, keepAliveMs: keepForever }),
  );
  routes.post("/v1/models/:name/unload", async (context) => {
    const file = await catalog.resolveFile(context.req.param("name"));
    const wasLoaded = await queue.unload(file.name);
    return context.json({ model: file.name, unloaded: wasLoaded });
  });
  return routes;
}

async function load(
  context: Context,
  target: { queue: Scheduler; catalog: ModelCatalog; keepAliveMs?: number },
): Promise<Response> {
  // Resolving first turns an unknown name into model-not-found before the scheduler sees it.
  const file = await target.catalog.resolveFile(context.req.param("name") ?? "");
  await target.queue.preload(file.name, {
    signal: context.req.raw.signal,
    ...(target.keepAliveMs === undefined ? {} : { keepAliveMs: target.keepAliveMs }),
  });
  const view = target.queue.snapshot().loaded.find((model) => model.name === file.name);
  return context.json({
    model: file.name,
    loaded: view !== undefined,
    pinned: target.keepAliveMs === keepForever,
    memory_bytes: view?.info.memoryBytes ?? null,
    backend: view?.info.backend ?? null,
  });
}

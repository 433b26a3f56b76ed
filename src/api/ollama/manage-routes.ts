/**
 * Ollama model management inside the models folder: `DELETE /api/delete {name}` and
 * `POST /api/copy {source, destination}`. Names are validated and resolved by the catalog
 * (realpath containment: nothing outside the folder is touched); admin-only once keys exist.
 * A loaded model is unloaded before its file is deleted (its running requests fail, as with
 * keep_alive 0); a copy is a hard link when the file system allows it, else a byte copy.
 */
import { constants } from "node:fs";
import { copyFile, link, realpath, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppError } from "../../core/index.js";
import { normalizeModelName, type ModelFile } from "../../models/index.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import { readJson } from "../request-body.js";

const deleteSchema = z
  .object({ name: z.string().min(1).optional(), model: z.string().min(1).optional() })
  .refine((body) => body.name !== undefined || body.model !== undefined, "name is required");
const copySchema = z.object({
  source: z.string().min(1, "source is required"),
  destination: z.string().min(1, "destination is required"),
});

export function mountModelManagementRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.delete("/api/delete", async (context) => {
    const body = await readJson(context, deleteSchema, deps.config.maxBodyBytes);
    const file = await ownFile(deps, (body.name ?? body.model)!);
    await deps.queue.unload(file.name);
    await unlink(file.path);
    deps.logger.info(`Deleted model "${file.name}" (${file.path}) through /api/delete.`);
    deps.events?.emit("model-file-changed", {
      action: "delete",
      model: file.name,
      keyId: context.get("caller").keyId,
      details: {},
    });
    return context.body(null, 200);
  });
  app.post("/api/copy", (context) => copy(context, deps));
}

async function copy(context: Context<ApiEnv>, deps: ApiDeps): Promise<Response> {
  const body = await readJson(context, copySchema, deps.config.maxBodyBytes);
  const source = await ownFile(deps, body.source);
  const destinationName = normalizeModelName(body.destination);
  if (destinationName.startsWith("."))
    throw new AppError("bad-request", `Model name "${body.destination}" may not start with ".".`, {
      param: "destination",
    });
  const folder = await realpath(deps.catalog.modelsDir);
  const destination = join(folder, `${destinationName}.gguf`);
  try {
    await link(await realpath(source.path), destination);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw exists(destinationName);
    if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP") throw error;
    await copyFile(source.path, destination, constants.COPYFILE_EXCL).catch((copyError: unknown) => {
      throw (copyError as NodeJS.ErrnoException).code === "EEXIST" ? exists(destinationName) : copyError;
    });
  }
  deps.logger.info(`Copied model "${source.name}" to "${destinationName}" through /api/copy.`);
  deps.events?.emit("model-file-changed", {
    action: "copy",
    model: destinationName,
    keyId: context.get("caller").keyId,
    details: { source: source.name },
  });
  return context.body(null, 200);
}

function exists(name: string): AppError {
  return new AppError(
    "bad-request",
    `Model "${name}" already exists; delete it first (DELETE /api/delete) or choose another destination.`,
    { param: "destination" },
  );
}

/** A model file in the models folder (the catalog keeps links inside it), not the bundled demo. */
async function ownFile(deps: ApiDeps, name: string): Promise<ModelFile> {
  const file = await deps.catalog.resolveFile(name);
  if (file.isDemo === true)
    throw new AppError(
      "bad-request",
      `Model "${file.name}" is the bundled demo model, not a file in the models folder; it cannot be deleted or copied.`,
      { param: "model" },
    );
  return file;
}

/**
 * The Workspace panel's routes (admin-only: not in the API's userRoutes), over src/workspace:
 *   GET /v1/workspace                 {enabled, name, max_file_bytes}; {enabled: false, message} without
 *                                     --workspace (the shell asks it to know whether to show the panel)
 *   GET /v1/workspace/tree            {entries: [{path, type, size_bytes}], truncated}
 *   GET /v1/workspace/file?path=P     {path, content, version: {sha256, size_bytes, mtime_ms}}
 *   PUT /v1/workspace/file            {path, content, base_sha256 | null} → {path, version}; 409 on conflict
 * Every read, write and refused attempt is handed to `onAccess` (the audit's `data` records).
 */
import { basename } from "node:path";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { AppError, isAppError } from "../core/index.js";
import type { FileVersion, Workspace } from "../workspace/index.js";

export interface WorkspaceAccess {
  action: "list" | "read" | "write" | "refused";
  /** The path as the client named it ("" for the tree). */
  path: string;
  context: Context;
  details: Record<string, unknown>;
}

export interface WorkspaceRoutesOptions {
  /** Undefined without --workspace: the file routes answer 404 saying how to configure one. */
  workspace: Workspace | undefined;
  /** The folder as configured, for its name only (never its path). */
  root: string;
  maxBodyBytes: number;
  onAccess?: (access: WorkspaceAccess) => void;
}

const writeSchema = z.object({
  path: z.string(),
  content: z.string(),
  base_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});

export function createWorkspaceRoutes(options: WorkspaceRoutesOptions): Hono {
  const routes = new Hono();
  const record = (access: WorkspaceAccess): void => options.onAccess?.(access);
  const notConfigured =
    "No workspace is configured on this server; start it with --workspace DIR (or RAWRXD_WORKSPACE).";
  const enabled = (): Workspace => {
    if (options.workspace !== undefined) return options.workspace;
    throw new AppError("not-found", notConfigured);
  };
  /** Runs an access; a refusal (forbidden) leaves its own record before it is answered. */
  const guarded = async <T>(context: Context, path: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (isAppError(error) && error.code === "forbidden")
        record({
          action: "refused",
          path,
          context,
          details: { method: context.req.method, reason: error.message },
        });
      throw error;
    }
  };

  routes.get("/v1/workspace", (context) =>
    context.json(
      options.workspace === undefined
        ? { enabled: false, message: notConfigured }
        : { enabled: true, name: basename(options.root), max_file_bytes: options.workspace.maxFileBytes },
    ),
  );
  routes.get("/v1/workspace/tree", async (context) => {
    const tree = await enabled().tree();
    record({ action: "list", path: "", context, details: { entries: tree.entries.length } });
    return context.json({
      entries: tree.entries.map((entry) => ({
        path: entry.path,
        type: entry.type,
        ...(entry.sizeBytes === undefined ? {} : { size_bytes: entry.sizeBytes }),
      })),
      truncated: tree.truncated,
    });
  });
  routes.get("/v1/workspace/file", async (context) => {
    const workspace = enabled();
    const path = context.req.query("path") ?? "";
    const file = await guarded(context, path, () => workspace.read(path));
    record({ action: "read", path: file.path, context, details: versionDetails(file.version) });
    return context.json({ path: file.path, content: file.content, version: versionBody(file.version) });
  });
  routes.put("/v1/workspace/file", async (context) => {
    const workspace = enabled();
    const body = writeSchema.safeParse(await readBoundedJson(context, options.maxBodyBytes));
    if (!body.success)
      throw new AppError(
        "bad-request",
        'Send {"path": "...", "content": "...", "base_sha256": "<the version read> or null for a new file"}.',
      );
    const { path, content, base_sha256: base } = body.data;
    try {
      const version = await guarded(context, path, () => workspace.write(path, content, base));
      record({ action: "write", path, context, details: { ...versionDetails(version), base_sha256: base } });
      return context.json({ path, version: versionBody(version) });
    } catch (error) {
      if (isAppError(error) && error.code === "conflict")
        record({ action: "write", path, context, details: { outcome: "conflict", base_sha256: base } });
      throw error;
    }
  });
  return routes;
}

function versionBody(version: FileVersion): Record<string, unknown> {
  return { sha256: version.sha256, size_bytes: version.sizeBytes, mtime_ms: version.mtimeMs };
}

function versionDetails(version: FileVersion): Record<string, unknown> {
  return { sha256: version.sha256, sizeBytes: version.sizeBytes };
}

/** The request body as JSON, refusing more than `limit` bytes however the client sends them. */
async function readBoundedJson(context: Context, limit: number): Promise<unknown> {
  const tooLarge = (): AppError =>
    new AppError("body-too-large", `The request body is over ${limit} bytes (--max-body-bytes).`);
  if (Number(context.req.header("content-length") ?? 0) > limit) throw tooLarge();
  const chunks: Uint8Array[] = [];
  const body: ReadableStream<Uint8Array> | null = context.req.raw.body;
  if (body !== null) {
    const reader = body.getReader();
    let total = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const chunk: Uint8Array = read.value;
      total += chunk.length;
      if (total > limit) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new AppError("bad-request", "The request body is not valid JSON.");
  }
}

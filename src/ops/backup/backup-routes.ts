/**
 * The backup routes, as a Hono sub-app src/app mounts on the API (admin keys only: none of them
 * is listed in api/access-rules.ts):
 *   GET  /v1/backups              every backup: id, kind, parent, time, sizes, status
 *   POST /v1/backups              {kind: full|incremental|differential} → the new backup (409 while one runs)
 *   POST /v1/backups/{id}/verify  {read_data?: boolean} → the verify report
 * Failures are logged with their detail; the body says what failed, never a server path.
 */
import { Hono, type Context } from "hono";
import { AppError, type Logger } from "../../core/index.js";
import type { BackupManager } from "./backup-manager.js";
import { backupKinds, type BackupKind } from "./manifest.js";

export interface BackupAction {
  action: "list" | "create" | "verify";
  context: Context;
  details: Record<string, unknown>;
}

export interface BackupRoutesOptions {
  manager: Pick<BackupManager, "create" | "list" | "verify">;
  logger: Logger;
  /** Called once per answered action, so the audit log can record who did it. */
  onAction?: (action: BackupAction) => void;
}

export function createBackupRoutes(options: BackupRoutesOptions): Hono {
  const { manager, logger } = options;
  const app = new Hono();
  app.get("/v1/backups", async (context) => {
    const backups = await manager.list().catch((error: unknown) => fail(logger, "list", error));
    options.onAction?.({ action: "list", context, details: { count: backups.length } });
    return context.json({ backups });
  });
  app.post("/v1/backups", async (context) => {
    const body = await jsonBody(context);
    const kind = body["kind"] ?? "incremental";
    if (typeof kind !== "string" || !(backupKinds as readonly string[]).includes(kind))
      throw new AppError(
        "bad-request",
        `kind must be one of ${backupKinds.join(", ")}; got ${JSON.stringify(kind)}.`,
        {
          param: "kind",
        },
      );
    const manifest = await manager
      .create(kind as BackupKind)
      .catch((error: unknown) => fail(logger, "create", error));
    const { files, ...summary } = manifest;
    options.onAction?.({ action: "create", context, details: { id: manifest.id, kind } });
    return context.json({ backup: { ...summary, files: files.length } }, 201);
  });
  app.post("/v1/backups/:id/verify", async (context) => {
    const id = context.req.param("id");
    const body = await jsonBody(context);
    const readData = body["read_data"] === true;
    const backups = await manager.list();
    if (!backups.some((entry) => entry.id === id))
      throw new AppError("not-found", `There is no backup ${id}; GET /v1/backups lists them.`);
    const report = await manager
      .verify({ ids: [id], readData })
      .catch((error: unknown) => fail(logger, "verify", error));
    options.onAction?.({
      action: "verify",
      context,
      details: { id, readData, ok: report.ok, problems: report.problems.length },
    });
    return context.json(report);
  });
  return app;
}

async function jsonBody(context: Context): Promise<Record<string, unknown>> {
  const text = await context.req.text();
  if (text.trim() === "") return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new AppError("bad-request", "The body must be a JSON object.");
}

/** Client-safe errors pass through; anything else is logged and replaced by a message without paths. */
function fail(logger: Logger, action: string, error: unknown): never {
  if (error instanceof AppError && error.code !== "internal") throw error;
  logger.error(`Backup ${action} failed`, { error: error instanceof Error ? error.message : String(error) });
  throw new AppError("internal", `The backup ${action} failed; the server log has the reason.`, {
    cause: error,
  });
}

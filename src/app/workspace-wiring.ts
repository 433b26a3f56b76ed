/**
 * Opens the --workspace folder (a missing one stops startup with a clear message) and mounts its
 * routes; every read, write and refused attempt becomes an audit `data` record naming the key.
 */
import type { Hono } from "hono";
import { callerIdentity } from "../api/index.js";
import type { Config } from "../config/index.js";
import type { Logger } from "../core/index.js";
import { Workspace } from "../workspace/index.js";
import type { AuditService } from "./audit-wiring.js";
import { createWorkspaceRoutes } from "./workspace-routes.js";

export async function openWorkspaceRoutes(options: {
  config: Readonly<Config>;
  logger: Logger;
  audit: AuditService | undefined;
}): Promise<Hono> {
  const { config, logger, audit } = options;
  const workspace =
    config.workspace === ""
      ? undefined
      : await Workspace.open({ root: config.workspace, maxFileBytes: config.workspaceMaxFileBytes });
  if (workspace !== undefined) logger.info("Workspace", { folder: config.workspace });
  return createWorkspaceRoutes({
    workspace,
    root: config.workspace,
    maxBodyBytes: Math.max(config.maxBodyBytes, config.workspaceMaxFileBytes * 2 + 64 * 1024),
    onAccess: ({ action, path, context, details }) =>
      audit?.recordRead({
        action: `workspace-${action}`,
        object: path,
        reader: callerIdentity(context),
        details,
      }),
  });
}

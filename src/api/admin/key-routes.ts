/**
 * Managed API keys over HTTP (admin only, see access-rules.ts): GET /v1/admin/keys lists them,
 * POST creates one and answers its key once, DELETE /v1/admin/keys/{id} revokes it at once.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  AppError,
  priorities,
  roles,
  type ApiKeyRegistry,
  type ApiKeyView,
  type EventBus,
} from "../../core/index.js";
import type { ApiEnv } from "../deps.js";
import { readJson } from "../request-body.js";

const createSchema = z.strictObject({
  name: z.string(),
  role: z.enum(roles),
  max_priority: z.enum(priorities).optional(),
});

const maxCreateBodyBytes = 4096;

/** The wire form of a key: snake_case, ISO times, never its secret. */
export function keyWireView(view: ApiKeyView): Record<string, unknown> {
  return {
    id: view.id,
    name: view.name,
    role: view.role,
    max_priority: view.maxPriority,
    created_at: new Date(view.createdAtMs).toISOString(),
    revoked_at: view.revokedAtMs === undefined ? null : new Date(view.revokedAtMs).toISOString(),
  };
}

export function adminKeyRoutes(keys: ApiKeyRegistry, events: EventBus | undefined): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  routes.get("/v1/admin/keys", (context) => context.json({ data: keys.list().map(keyWireView) }));
  routes.post("/v1/admin/keys", async (context) => {
    const body = await readJson(context, createSchema, maxCreateBodyBytes);
    const { key, view } = await keys.create({
      name: body.name,
      role: body.role,
      maxPriority: body.max_priority,
    });
    events?.emit("key-created", {
      keyId: view.id,
      name: view.name,
      role: view.role,
      maxPriority: view.maxPriority,
      byKeyId: context.get("caller").keyId,
    });
    return context.json({ ...keyWireView(view), key }, 201);
  });
  routes.delete("/v1/admin/keys/:id", async (context) => {
    const id = context.req.param("id");
    const before = keys.list().find((view) => view.id === id);
    const view = await keys.revoke(id);
    if (view === undefined)
      throw new AppError("not-found", `No API key has id "${id}"; list them with GET /v1/admin/keys.`);
    if (before?.revokedAtMs === undefined)
      events?.emit("key-revoked", { keyId: id, byKeyId: context.get("caller").keyId });
    return context.json(keyWireView(view));
  });
  return routes;
}

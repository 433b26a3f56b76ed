/**
 * Native routes: liveness, readiness, who the caller is, and Ollama's root banner. `GET /`
 * answers the banner as text unless the request asks for HTML: a browser then gets the shell,
 * which src/app mounts after these routes (web-routes.ts).
 */
import type { Hono } from "hono";
import { anonymousKeyId, anonymousLocalKeyId } from "../../core/index.js";
import { acceptsHtml } from "../access-rules.js";
import type { ApiDeps, ApiEnv } from "../deps.js";

export function mountNativeRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.get("/", (context, next) =>
    acceptsHtml(context.req.header("accept")) ? next() : context.text("RawrXD is running"),
  );
  app.get("/v1/whoami", (context) => {
    const caller = context.get("caller");
    const keysRequired = caller.keyId !== anonymousKeyId && caller.keyId !== anonymousLocalKeyId;
    return context.json({ key_id: caller.keyId, role: caller.role, keys_required: keysRequired });
  });
  app.get("/health", (context) => context.json({ status: "ok" }));
  app.get("/ready", (context) => {
    if (!deps.isReady()) return context.json({ status: "unavailable" }, 503);
    const snapshot = deps.queue.snapshot();
    return context.json({ status: "ready", loaded_models: snapshot.loaded.length, queued: snapshot.queued });
  });
}

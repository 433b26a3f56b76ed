/**
 * Native routes: liveness, readiness (with the audit log's state), who the caller is, and
 * Ollama's root banner. `GET /` answers the banner as text unless the request asks for HTML: a
 * browser then gets the shell, which src/app mounts after these routes (web-routes.ts).
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
  // On /ready, which needs a key once keys exist (/health is public): the audit log's state, never
  // its reason (it may name server paths); absent with --no-audit.
  const audit = (): { audit?: string } => {
    const health = deps.audit?.health();
    return health === undefined ? {} : { audit: health.state };
  };
  app.get("/health", (context) => context.json({ status: "ok" }));
  app.get("/ready", (context) => {
    if (!deps.isReady()) return context.json({ status: "unavailable", ...audit() }, 503);
    // Fail-closed with an unwritable audit log: inference is refused, so the server is not ready.
    if (deps.audit?.health().isRefusing === true)
      return context.json({ status: "unavailable", ...audit() }, 503);
    const snapshot = deps.queue.snapshot();
    return context.json({
      status: "ready",
      loaded_models: snapshot.loaded.length,
      queued: snapshot.queued,
      ...audit(),
    });
  });
}

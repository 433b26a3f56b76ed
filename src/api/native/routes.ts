/** Native routes: liveness, readiness (with the audit log's state), and Ollama's root banner. */
import type { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "../deps.js";

export function mountNativeRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.get("/", (context) => context.text("RawrXD is running"));
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

/** Native routes: liveness, readiness, and Ollama's root banner. */
import type { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "../deps.js";

export function mountNativeRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.get("/", (context) => context.text("RawrXD is running"));
  app.get("/health", (context) => context.json({ status: "ok" }));
  app.get("/ready", (context) => {
    if (!deps.isReady()) return context.json({ status: "unavailable" }, 503);
    const snapshot = deps.queue.snapshot();
    return context.json({ status: "ready", loaded_models: snapshot.loaded.length, queued: snapshot.queued });
  });
}

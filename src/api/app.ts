/**
 * The HTTP application: request ids, the browser guard (Host, Origin, CORS), auth and roles, the
 * route table by area, and the one error handler that turns any thrown value into the dialect's
 * error body with the right status.
 */
import { Hono } from "hono";
import { anonymousKeyId, anonymousLocalKeyId, AppError, isLoopback, toAppError } from "../core/index.js";
import { accessLog } from "./access-log.js";
import { allowedMethods } from "./allowed-methods.js";
import { adminKeyRoutes } from "./admin/key-routes.js";
import { apiKeyAuth } from "./auth.js";
import { AuthRateLimiter } from "./auth-rate-limit.js";
import { browserGuard } from "./browser-guard.js";
import type { ApiDeps, ApiEnv } from "./deps.js";
import { forClient, redactorFor } from "./client-paths.js";
import { dialectOf, errorResponse } from "./error-status.js";
import { mountQueueRoutes } from "./native/queue-routes.js";
import { mountNativeRoutes } from "./native/routes.js";
import { mountInfillRoute } from "./infill/infill-route.js";
import { mountTokenizerRoutes } from "./tokenizer/tokenizer-routes.js";
import { mountModelManagementRoutes } from "./ollama/manage-routes.js";
import { mountPullRoute } from "./ollama/pull-route.js";
import { mountOllamaRoutes } from "./ollama/routes.js";
import { mountOpenAiRoutes } from "./openai/routes.js";
import { acceptRequestId } from "./request-id.js";
import { RequestOwners } from "./request-owners.js";

export function createApiApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use(async (context, next) => {
    const id = acceptRequestId(context.req.header("x-request-id"));
    context.set("requestId", id);
    await next();
    // Most responses carry it already (streams, errors, 404s): setting it again would rebuild the
    // response (Hono re-creates a finalized one on `header()`, undici Response and Headers; ADR 0054).
    if (context.res.headers.get("x-request-id") !== id) context.header("X-Request-Id", id);
  });
  app.use(accessLog(deps.logger));
  const { config } = deps;
  app.use(
    browserGuard({
      boundHost: config.host,
      allowedHosts: config.allowedHosts,
      corsOrigins: config.corsOrigins,
    }),
  );
  const requestOwners = new RequestOwners();
  app.use(async (context, next) => {
    context.set("requestOwners", requestOwners);
    await next();
  });
  app.use(
    apiKeyAuth({
      configKeys: config.apiKeys,
      keys: deps.keys,
      anonymousKeyId: isLoopback(config.host)
        ? anonymousLocalKeyId
        : config.insecureNoAuth
          ? anonymousKeyId
          : undefined,
      limiter: new AuthRateLimiter({
        maxFailures: config.authFailuresPerMinute,
        windowMs: 60_000,
        time: deps.time,
      }),
      events: deps.events,
    }),
  );

  mountNativeRoutes(app, deps);
  mountQueueRoutes(app, deps);
  mountOpenAiRoutes(app, deps);
  mountOllamaRoutes(app, deps);
  mountInfillRoute(app, deps);
  mountTokenizerRoutes(app, deps);
  mountPullRoute(app, deps);
  mountModelManagementRoutes(app, deps);
  if (deps.keys !== undefined) app.route("/", adminKeyRoutes(deps.keys, deps.events));

  app.notFound((context) => {
    const { method, path } = context.req;
    const allowed = allowedMethods(app.routes, path);
    const requestId = context.get("requestId");
    if (allowed.length > 0) {
      const failure = errorResponse(
        new AppError("method-not-allowed", `${path} does not accept ${method}; use ${allowed.join(" or ")}.`),
        dialectOf(path),
      );
      return context.json(failure.body, 405, { Allow: allowed.join(", "), "X-Request-Id": requestId });
    }
    const failure = errorResponse(
      new AppError("not-found", `No route for ${method} ${path}.`),
      dialectOf(path),
    );
    return context.json(failure.body, 404, { "X-Request-Id": requestId });
  });
  const redact = redactorFor(config);
  app.onError((error, context) => {
    const original = toAppError(error);
    const sent = forClient(original, redact);
    const failure = errorResponse(sent, dialectOf(context.req.path));
    // The log keeps what the client does not see: the full message, paths included.
    if (failure.status >= 500 || sent !== original)
      deps.logger[failure.status >= 500 ? "error" : "warn"]("Request failed", {
        requestId: context.get("requestId"),
        path: context.req.path,
        error: original.message,
      });
    return context.json(failure.body, failure.status as 500, {
      ...failure.headers,
      "X-Request-Id": context.get("requestId"),
    });
  });
  return app;
}

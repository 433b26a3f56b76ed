/**
 * One access-log line per request at info level, written when the response has really ended
 * (a stream's last byte, or the client leaving): method, path, status, duration, request id.
 * Never the query string (it may carry an API key), headers, or any part of the body.
 */
import type { ServerResponse } from "node:http";
import type { MiddlewareHandler } from "hono";
import { systemTime, type Logger, type TimePort } from "../core/index.js";
import type { ApiEnv } from "./deps.js";

/** What @hono/node-server passes as the request's env; absent under `app.request()` in tests. */
interface NodeBindings {
  outgoing?: ServerResponse;
}

export function accessLog(logger: Logger, time: TimePort = systemTime): MiddlewareHandler<ApiEnv> {
  return async (context, next) => {
    const startedMs = time.monotonicNow();
    await next();
    const fields = {
      method: context.req.method,
      path: context.req.path,
      status: context.res.status,
      requestId: context.get("requestId"),
    };
    const write = (extra: Record<string, unknown> = {}): void =>
      logger.info("Request", {
        ...fields,
        durationMs: Math.round(time.monotonicNow() - startedMs),
        ...extra,
      });
    const outgoing = (context.env as NodeBindings | undefined)?.outgoing;
    if (outgoing === undefined || outgoing.writableFinished) {
      write();
      return;
    }
    outgoing.once("close", () => write(outgoing.writableFinished ? {} : { isClientGone: true }));
  };
}

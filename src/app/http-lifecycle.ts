/**
 * The HTTP side of start and stop: listening (with a clear message for a port in use) and the
 * shutdown steps the composition root sequences — drain with the port open, then close.
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { RequestDrain } from "../api/index.js";
import type { Config } from "../config/index.js";
import type { Logger, TimePort } from "../core/index.js";
import { answerClientErrors } from "./http-client-errors.js";

export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  config: Readonly<Config>,
): Promise<Server> {
  const requestTimeout = Math.max(0, config.requestTimeoutMs);
  // Node refuses a header timeout above the request timeout: the stricter one wins.
  const headersTimeout = Math.max(
    1,
    requestTimeout > 0 ? Math.min(config.headerTimeoutMs, requestTimeout) : config.headerTimeoutMs,
  );
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        hostname: config.host,
        port: config.port,
        serverOptions: {
          maxHeaderSize: config.maxHeaderBytes,
          headersTimeout,
          requestTimeout,
          // Node checks both timeouts on this interval (default 30 s): a quarter of the shorter one
          // (2.5 s at the default 10 s header timeout; the idle server wakes for it, ADR 0052).
          connectionsCheckingInterval: Math.max(50, Math.min(5000, Math.floor(headersTimeout / 4))),
        },
      },
      () => resolve(server),
    ) as Server;
    server.once("error", (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === "EADDRINUSE"
          ? ` Port ${config.port} is in use: stop the other server or pass --port.`
          : "";
      reject(new Error(`Cannot listen on ${config.host}:${config.port}: ${error.message}.${hint}`));
    });
    answerClientErrors(server, { maxHeaderBytes: config.maxHeaderBytes });
    server.keepAliveTimeout = 5_000;
  });
}

/** How long a stream that was just ended may take to write its last event before its socket is cut. */
export const streamFlushMs = 1000;

/**
 * Shutdown, step one, with the port still open: /ready answers 503 and new work is refused with
 * 503 and Retry-After while running requests go on for up to `graceMs`; then whatever still runs
 * is ended with its dialect's final error event.
 */
export async function drainRequests(
  drain: RequestDrain,
  options: { graceMs: number; logger: Logger },
): Promise<void> {
  const { graceMs, logger } = options;
  drain.drain();
  logger.info("Shutting down: waiting for running requests", {
    running: drain.activeCount,
    graceMs,
  });
  if (await drain.whenIdle(graceMs)) return;
  logger.warn("Shutdown grace is over: ending the requests still running", {
    running: drain.activeCount,
    graceMs,
  });
  drain.stop();
  await drain.whenIdle(streamFlushMs);
}

/** Stops listening, closes connections as they turn idle, and cuts the rest after `flushMs`. */
export async function stopHttp(server: Server, options: { flushMs: number; time: TimePort }): Promise<void> {
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections turn idle as their last responses are written: close them as they do.
  server.closeIdleConnections();
  const sweeper = options.time.setInterval(() => server.closeIdleConnections(), 50);
  const timer = options.time.setTimeout(() => server.closeAllConnections(), options.flushMs);
  await done;
  sweeper.cancel();
  timer.cancel();
}

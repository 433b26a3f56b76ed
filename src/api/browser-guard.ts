/**
 * Browser safety, before authentication. DNS rebinding: a page on evil.example whose name is
 * re-pointed at 127.0.0.1 reaches this server with `Host: evil.example`, so only IP literals,
 * localhost, the bound name and --allowed-hosts are served. Foreign pages: a request whose
 * `Origin` is neither this server nor listed in --cors-origins is refused, and only listed
 * origins get CORS headers (preflights included).
 */
import { isIP } from "node:net";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/index.js";
import type { ApiEnv } from "./deps.js";

export interface BrowserGuardOptions {
  /** The address the server is bound to (--host). */
  boundHost: string;
  /** Extra names clients may use in `Host`; "*" allows any. */
  allowedHosts: readonly string[];
  /** Origins allowed to call cross-origin; "*" allows any. */
  corsOrigins: readonly string[];
}

const allowedMethods = "GET, POST, PUT, DELETE, OPTIONS";
const allowedHeaders = "Authorization, Content-Type, X-Api-Key, X-Priority, X-Request-Group, X-Request-Id";
const exposedHeaders = "X-Request-Id, Retry-After";
const preflightMaxAgeSeconds = 600;

/** The name part of a Host header: `[::1]:8080` → `::1`, `Example.com:80` → `example.com`. */
export function hostnameOf(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith("["))
    return lower.slice(1, lower.indexOf("]") === -1 ? undefined : lower.indexOf("]"));
  const colon = lower.indexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}

export function browserGuard(options: BrowserGuardOptions): MiddlewareHandler<ApiEnv> {
  const names = new Set(
    [options.boundHost, "localhost", ...options.allowedHosts].map((name) => hostnameOf(name)),
  );
  const isAllowedHost = (host: string): boolean => {
    const name = hostnameOf(host);
    return names.has("*") || names.has(name) || isIP(name) !== 0;
  };
  const corsOrigins = new Set(options.corsOrigins.map((origin) => origin.replace(/\/+$/, "").toLowerCase()));
  const isCorsOrigin = (origin: string): boolean =>
    corsOrigins.has("*") || corsOrigins.has(origin.toLowerCase());

  return async (context, next) => {
    const host = context.req.header("host");
    // HTTP/1.0 clients may omit Host; browsers always send it.
    if (host !== undefined && !isAllowedHost(host))
      throw new AppError(
        "forbidden",
        `Host "${host}" is not a name this server answers to; add it to --allowed-hosts if it should be.`,
      );
    const origin = context.req.header("origin");
    if (origin === undefined) return next();
    const isCors = isCorsOrigin(origin);
    if (!isCors && !isSameOrigin(origin, host))
      throw new AppError(
        "forbidden",
        `Cross-origin request from ${origin} refused; add the origin to --cors-origins to allow it.`,
      );
    if (!isCors) return next();
    const corsHeaders = {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Expose-Headers": exposedHeaders,
      Vary: "Origin",
    };
    if (context.req.method === "OPTIONS" && context.req.header("access-control-request-method") !== undefined)
      return context.body(null, 204, {
        ...corsHeaders,
        "Access-Control-Allow-Methods": allowedMethods,
        "Access-Control-Allow-Headers": allowedHeaders,
        "Access-Control-Max-Age": String(preflightMaxAgeSeconds),
      });
    for (const [name, value] of Object.entries(corsHeaders)) context.header(name, value);
    await next();
    for (const [name, value] of Object.entries(corsHeaders)) context.res.headers.set(name, value);
  };
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}

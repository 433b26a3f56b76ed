/**
 * API keys: `Authorization: Bearer KEY` (or `x-api-key`). Keys are kept as SHA-256 digests
 * and compared in constant time. /health and the root stay public, as llama-server does.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/index.js";
import type { ApiEnv } from "./deps.js";

const publicPaths = new Set(["/", "/health"]);

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler<ApiEnv> {
  const digests = keys.map(digest);
  return async (context, next) => {
    if (digests.length === 0 || publicPaths.has(context.req.path) || context.req.method === "OPTIONS")
      return next();
    const header = context.req.header("authorization");
    const presented = header?.toLowerCase().startsWith("bearer ")
      ? header.slice(7).trim()
      : context.req.header("x-api-key");
    if (presented === undefined || presented === "") {
      throw new AppError("unauthorized", "Missing API key: send `Authorization: Bearer <key>`.");
    }
    const candidate = digest(presented);
    if (!digests.some((known) => timingSafeEqual(known, candidate))) {
      throw new AppError("unauthorized", "Invalid API key.");
    }
    return next();
  };
}

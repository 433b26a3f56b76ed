/**
 * Who is calling, per request: `Authorization: Bearer KEY` (or `x-api-key`) checked against the
 * --api-keys (admin keys `config-1`, `config-2`, …, compared as SHA-256 digests in constant
 * time) and the managed keys in the store (read per request, so a new or revoked key counts at
 * once). With no key defined at all, every caller is the anonymous one: local use stays open.
 * Failures count against the source address (429 when over the limit) and go on the event bus.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import {
  AppError,
  type ApiKeyRegistry,
  type Caller,
  type EventBus,
  type ServerEvents,
} from "../core/index.js";
import { isMonitoringRead, isPublicShellRequest, mayUse } from "./access-rules.js";
import type { AuthRateLimiter } from "./auth-rate-limit.js";
import type { ApiEnv } from "./deps.js";

/** Public without a key; the shell's page and assets too (access-rules.ts: isPublicShellRequest). */
const publicPaths = new Set(["/health"]);

/** The caller of a public route on a server that has keys: nobody in particular. */
const unauthenticated: Caller = { keyId: "unauthenticated", role: "user", maxPriority: "low" };

export interface AuthOptions {
  /** --api-keys: each one an admin key. */
  configKeys: readonly string[];
  /** The managed keys; undefined when the server runs without a store (tests). */
  keys: ApiKeyRegistry | undefined;
  /**
   * Who calls while no key is active (`anonymous-local` on loopback, `anonymous` with
   * --insecure-no-auth); undefined: nobody, so revoking the last key of an exposed server locks it.
   */
  anonymousKeyId: string | undefined;
  limiter: AuthRateLimiter;
  events: EventBus | undefined;
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/** The peer's address; "unknown" for requests that did not come over a socket (app.request). */
export function sourceAddressOf(context: Context<ApiEnv>): string {
  try {
    return getConnInfo(context).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

function presentedKey(context: Context<ApiEnv>): string | undefined {
  const header = context.req.header("authorization");
  const key = header?.toLowerCase().startsWith("bearer ")
    ? header.slice(7).trim()
    : context.req.header("x-api-key")?.trim();
  return key === "" ? undefined : key;
}

export function apiKeyAuth(options: AuthOptions): MiddlewareHandler<ApiEnv> {
  const configDigests = options.configKeys.map((key, index) => ({
    id: `config-${index + 1}`,
    digest: digest(key),
  }));
  const anonymous: Caller | undefined =
    options.anonymousKeyId === undefined
      ? undefined
      : { keyId: options.anonymousKeyId, role: "admin", maxPriority: "high" };
  /** Keys seen since this server started: the first use of each is on record. */
  const seenKeys = new Set<string>();
  const emit = <Name extends keyof ServerEvents>(name: Name, payload: ServerEvents[Name]): void =>
    options.events?.emit(name, payload);

  function identify(presented: string): Caller | ServerEvents["auth-failed"]["reason"] {
    const candidate = digest(presented);
    const configKey = configDigests.find((known) => timingSafeEqual(known.digest, candidate));
    if (configKey !== undefined) return { keyId: configKey.id, role: "admin", maxPriority: "high" };
    const check = options.keys?.verify(presented);
    if (check?.status === "valid")
      return { keyId: check.view.id, role: check.view.role, maxPriority: check.view.maxPriority };
    return check?.status === "revoked" ? "revoked-key" : "invalid-key";
  }

  return async (context, next) => {
    const { method, path } = context.req;
    const hasKeys = configDigests.length > 0 || options.keys?.hasActiveKeys() === true;
    if (!hasKeys && anonymous !== undefined) {
      context.set("caller", anonymous);
      return next();
    }
    // Preflights carry no credentials; the browser guard answers them.
    const accept = context.req.header("accept");
    if (publicPaths.has(path) || method === "OPTIONS" || isPublicShellRequest({ method, path, accept })) {
      context.set("caller", unauthenticated);
      return next();
    }
    const sourceAddress = sourceAddressOf(context);
    const retryAfterSeconds = options.limiter.retryAfterSeconds(sourceAddress);
    if (retryAfterSeconds !== undefined) {
      emit("auth-rate-limited", { sourceAddress, retryAfterSeconds, path });
      throw new AppError(
        "rate-limited",
        `Too many failed authentication attempts from this address; retry in ${retryAfterSeconds} s.`,
        { retryAfterSeconds },
      );
    }
    const presented = presentedKey(context);
    const caller = presented === undefined ? "missing-key" : identify(presented);
    if (typeof caller === "string") {
      options.limiter.recordFailure(sourceAddress);
      const keyId = presented === undefined ? undefined : /^rxd_([0-9a-f]{12})_/.exec(presented)?.[1];
      emit("auth-failed", { reason: caller, keyId, sourceAddress, method, path });
      throw new AppError("unauthorized", unauthorizedMessage(caller, keyId));
    }
    if (!mayUse(caller.role, { method, path })) {
      emit("auth-failed", { reason: "forbidden", keyId: caller.keyId, sourceAddress, method, path });
      throw new AppError(
        "forbidden",
        `API key ${caller.keyId} has the role "${caller.role}", which may not use ${method} ${path}; this needs an admin key.`,
      );
    }
    const firstUse = !seenKeys.has(caller.keyId);
    const adminRoute = !mayUse("user", { method, path }) && !isMonitoringRead({ method, path });
    if (firstUse || adminRoute) {
      seenKeys.add(caller.keyId);
      emit("auth-succeeded", {
        keyId: caller.keyId,
        role: caller.role,
        sourceAddress,
        method,
        path,
        firstUse,
        adminRoute,
      });
    }
    context.set("caller", caller);
    return next();
  };
}

function unauthorizedMessage(
  reason: ServerEvents["auth-failed"]["reason"],
  keyId: string | undefined,
): string {
  switch (reason) {
    case "missing-key":
      return "Missing API key: send `Authorization: Bearer <key>`.";
    case "revoked-key":
      return `API key ${keyId ?? ""} has been revoked; ask an admin for a new one.`;
    case "invalid-key":
    case "forbidden":
      return "Invalid API key.";
  }
}

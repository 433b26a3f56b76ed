/**
 * What an inference route does with its caller: cap the priority it asks for (body field, else
 * X-Priority) at its key's --max-priority, and claim the request for the key that sent it.
 */
import type { Context } from "hono";
import { AppError, grantedPriority, type GenerateRequest, type Priority } from "../core/index.js";
import { sourceAddressOf } from "./auth.js";
import { resolvePriority } from "./common-schema.js";
import type { ApiEnv } from "./deps.js";

/** Returns the granted priority and keeps both on the request (`priority`) for the audit log. */
export function grantPriority(context: Context<ApiEnv>, bodyValue: Priority | undefined): Priority {
  const asked = resolvePriority(bodyValue, context.req.header("x-priority"));
  const granted = grantedPriority(asked, context.get("caller").maxPriority);
  context.set("priority", { asked, granted });
  return granted;
}

/** Who sent a generation, for request-end and the audit log; call after `grantPriority`. */
export function requestOrigin(
  context: Context<ApiEnv>,
): Pick<GenerateRequest, "apiKeyId" | "sourceAddress" | "priorityAsked"> {
  return {
    apiKeyId: context.get("caller").keyId,
    sourceAddress: sourceAddressOf(context),
    priorityAsked: context.get("priority")?.asked,
  };
}

/** The caller's key id and address, for routes mounted from outside the API (ops' audit routes). */
export function callerIdentity(context: Context): { keyId: string; address: string } {
  const typed = context as unknown as Context<ApiEnv>;
  return { keyId: typed.get("caller").keyId, address: sourceAddressOf(typed) };
}

/** Claims the request for its caller; spread into startGeneration's options (its `onLeave`). */
export function claimRequest(context: Context<ApiEnv>): { onLeave: () => void } {
  return {
    onLeave: context.get("requestOwners").track(context.get("requestId"), context.get("caller").keyId),
  };
}

/** A `user` key sees and cancels only its own requests; admins see all. */
export function checkRequestOwner(context: Context<ApiEnv>, requestId: string): void {
  const caller = context.get("caller");
  if (caller.role === "admin") return;
  const owner = context.get("requestOwners").ownerOf(requestId);
  if (owner !== undefined && owner !== caller.keyId)
    throw new AppError(
      "forbidden",
      `Request "${requestId}" was sent with another API key; only that key or an admin key may see or cancel it.`,
    );
}

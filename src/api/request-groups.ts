/**
 * `X-Request-Group`: a newer generation in the same group, from the same caller, cancels the
 * older one at once (an editor's completion superseded by the next keystroke). Groups are per
 * API key (and per client address on an open server), so one caller cannot cancel another's.
 */
import type { Context } from "hono";
import { AppError } from "../core/index.js";
import { sourceAddressOf } from "./auth.js";
import type { ApiDeps, ApiEnv } from "./deps.js";
import { clientSignalOf } from "./node-request.js";

/** Groups remembered at most; the oldest is forgotten first (its request has long ended). */
const maxGroups = 4096;
const maxGroupNameLength = 200;

export class RequestGroups {
  readonly #current = new Map<string, AbortController>();

  /** Cancels the group's previous request; returns a signal that the next one in the group aborts. */
  enter(groupKey: string): AbortSignal {
    const previous = this.#current.get(groupKey);
    previous?.abort(supersededError());
    this.#current.delete(groupKey);
    const controller = new AbortController();
    this.#current.set(groupKey, controller);
    if (this.#current.size > maxGroups) this.#current.delete(this.#current.keys().next().value!);
    return controller.signal;
  }

  get size(): number {
    return this.#current.size;
  }
}

const groupsByDeps = new WeakMap<ApiDeps, RequestGroups>();

function groupsFor(deps: ApiDeps): RequestGroups {
  let groups = groupsByDeps.get(deps);
  if (groups === undefined) {
    groups = new RequestGroups();
    groupsByDeps.set(deps, groups);
  }
  return groups;
}

export function supersededError(): AppError {
  return new AppError(
    "cancelled",
    "A newer request in the same X-Request-Group superseded this one; it was cancelled.",
  );
}

/**
 * The signal that cancels a generation: the client's disconnect, and with an `X-Request-Group`
 * header also the next request in that group. Call once per request, before it is queued.
 */
export function generationSignal(context: Context<ApiEnv>, deps: ApiDeps): AbortSignal {
  const clientSignal = clientSignalOf(context);
  const group = context.req.header("x-request-group");
  if (group === undefined || group === "") return clientSignal;
  if (group.length > maxGroupNameLength)
    throw new AppError("bad-request", `X-Request-Group is longer than ${maxGroupNameLength} characters.`);
  const caller = context.get("caller");
  const owner = caller.keyId.startsWith("anonymous")
    ? `${caller.keyId}@${sourceAddressOf(context)}`
    : caller.keyId;
  const superseded = groupsFor(deps).enter(`${owner}\u0000${group}`);
  return AbortSignal.any([clientSignal, superseded]);
}

/** True when the signal was aborted by a newer request of its group (check only for a cancelled generation: one that ended first is complete). */
export function isSuperseded(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof AppError && signal.reason.code === "cancelled";
}

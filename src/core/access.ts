/**
 * Who is calling: an API key's id, role and priority cap, shared by the key store, the HTTP
 * layer that checks keys, and the audit log that names the caller.
 */
import { isIP } from "node:net";
import { priorities, type Priority } from "./inference.js";

export const roles = ["admin", "user"] as const;
/** `admin` may use every route; `user` may run inference, list models and see its own requests. */
export type Role = (typeof roles)[number];

/** The caller on a loopback server with no keys defined (local use stays open, like Ollama). */
export const anonymousLocalKeyId = "anonymous-local";
/** The caller on a non-loopback server started with --insecure-no-auth. */
export const anonymousKeyId = "anonymous";

export interface Caller {
  /** The key's public id (`config-1`, a managed key's id) or an anonymous id above. */
  keyId: string;
  role: Role;
  /** The highest priority this caller's requests may run at. */
  maxPriority: Priority;
}

/** A managed key as listed: everything but its secret, which is never stored. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  maxPriority: Priority;
  createdAtMs: number;
  /** Undefined while the key is active. */
  revokedAtMs: number | undefined;
}

export interface NewApiKey {
  name: string;
  role: Role;
  /** Default "high": no cap. */
  maxPriority?: Priority;
}

export interface CreatedApiKey {
  /** The whole key (`rxd_<id>_<secret>`): shown once, never stored. */
  key: string;
  view: ApiKeyView;
}

export type KeyCheck =
  | { status: "valid"; view: ApiKeyView }
  | { status: "revoked"; keyId: string }
  /** `keyId` when the presented text had the shape of a managed key. */
  | { status: "invalid"; keyId: string | undefined };

/** The managed keys (src/store implements it; the HTTP layer checks and manages keys through it). */
export interface ApiKeyRegistry {
  /** A promise where the keys live in a shared store (--store): written there first. */
  create(input: NewApiKey): CreatedApiKey | Promise<CreatedApiKey>;
  /** Every key, revoked ones included, oldest first. */
  list(): ApiKeyView[];
  /** Revokes at once (idempotent); undefined when no key has this id. */
  revoke(id: string): ApiKeyView | undefined | Promise<ApiKeyView | undefined>;
  /** True while at least one managed key is active; read per request, so it must stay cheap. */
  hasActiveKeys(): boolean;
  verify(presented: string): KeyCheck;
}

/** The priority a request runs at: what it asked for, lowered to the caller's cap. */
export function grantedPriority(asked: Priority, maxPriority: Priority): Priority {
  return priorities.indexOf(asked) < priorities.indexOf(maxPriority) ? maxPriority : asked;
}

const loopbackHosts = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Only literal 127.0.0.0/8 addresses, ::1 and localhost: a name such as 127.example.com is not loopback. */
export function isLoopback(host: string): boolean {
  return loopbackHosts.has(host) || (isIP(host) === 4 && host.startsWith("127."));
}

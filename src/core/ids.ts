import { randomBytes } from "node:crypto";

/** Request ids: short, URL-safe, unique enough for one server's lifetime and logs. */
export function newRequestId(prefix = "req"): string {
  return `${prefix}-${randomBytes(9).toString("base64url")}`;
}

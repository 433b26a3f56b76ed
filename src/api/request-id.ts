import { newRequestId } from "../core/index.js";

/** Keeps a caller's X-Request-Id when it is short and plain; otherwise makes one. */
export function acceptRequestId(header: string | undefined): string {
  if (header !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(header)) return header;
  return newRequestId();
}

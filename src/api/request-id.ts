import { randomFillSync } from "node:crypto";

/**
 * Random bytes for request ids, drawn from the CSPRNG 256 ids at a time (as Node's own
 * `randomUUID` pools): one `randomBytes(9)` per request cost a syscall and OpenSSL's fork check
 * (ADR 0054). The ids are the same as `newRequestId()`'s: `req-` and 9 random bytes, base64url.
 */
const idBytes = 9;
const pool = Buffer.alloc(idBytes * 256);
let poolOffset = pool.length;

function pooledRequestId(): string {
  if (poolOffset + idBytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = pool.toString("base64url", poolOffset, poolOffset + idBytes);
  poolOffset += idBytes;
  return `req-${id}`;
}

/** Keeps a caller's X-Request-Id when it is short and plain; otherwise makes one. */
export function acceptRequestId(header: string | undefined): string {
  if (header !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(header)) return header;
  return pooledRequestId();
}

import { randomFillSync } from "node:crypto";

/**
 * Random bytes for ids, drawn from the CSPRNG 256 ids at a time (as Node's own `randomUUID`
 * pools): one `randomBytes(9)` per request cost a syscall and OpenSSL's fork check (ADR 0054).
 */
const idBytes = 9;
const pool = Buffer.alloc(idBytes * 256);
let poolOffset = pool.length;

/** Request ids: short, URL-safe, unique enough for one server's lifetime and logs (9 random bytes, base64url). */
export function newRequestId(prefix = "req"): string {
  if (poolOffset + idBytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = pool.toString("base64url", poolOffset, poolOffset + idBytes);
  poolOffset += idBytes;
  return `${prefix}-${id}`;
}

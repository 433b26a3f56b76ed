/**
 * SHA-256 of model files, streamed in chunks: model files are gigabytes, so they are never
 * read into memory whole.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Computes a file's SHA-256 as lowercase hex. */
export type HashFile = (path: string, options?: { signal?: AbortSignal }) => Promise<string>;

export const hashFileSha256: HashFile = async (path, options = {}) => {
  const hash = createHash("sha256");
  await updateHashFromFile(hash, path, options);
  return hash.digest("hex");
};

/** Feeds a file's bytes (or its first `endBytes`) into a running hash. Returns bytes read. */
export async function updateHashFromFile(
  hash: Hash,
  path: string,
  options: { signal?: AbortSignal; endBytes?: number } = {},
): Promise<number> {
  if (options.endBytes === 0) return 0;
  const stream = createReadStream(path, {
    highWaterMark: 1024 * 1024,
    signal: options.signal,
    end: options.endBytes === undefined ? undefined : options.endBytes - 1,
  });
  let bytesRead = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytesRead += chunk.length;
  }
  return bytesRead;
}

const sha256HexPattern = /^[0-9a-f]{64}$/;

/** Lowercases and checks a SHA-256 given by a user; undefined when it is not 64 hex digits. */
export function parseSha256Hex(text: string): string | undefined {
  const normalized = text
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, "");
  return sha256HexPattern.test(normalized) ? normalized : undefined;
}

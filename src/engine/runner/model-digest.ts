/**
 * The model file's identity for the prompt cache (docs/decisions/0022): its SHA-256, hashed once
 * per file version (path, size, mtime, inode) and remembered in the cache folder, since model
 * files are gigabytes.
 */
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The model file's SHA-256, remembered in `directory` by path, size and mtime (hashed once per file version). */
export async function modelDigest(directory: string, modelPath: string): Promise<string> {
  const info = await stat(modelPath);
  const key = createHash("sha256")
    .update(JSON.stringify([modelPath, info.size, info.mtimeMs, info.ino]))
    .digest("hex")
    .slice(0, 32);
  const digestsFolder = join(directory, "model-digests");
  const remembered = join(digestsFolder, key);
  try {
    const text = (await readFile(remembered, "utf8")).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return text;
  } catch {
    // Not hashed yet.
  }
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(modelPath, {
    highWaterMark: 1024 * 1024,
  }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  const digest = hash.digest("hex");
  mkdirSync(digestsFolder, { recursive: true });
  const temp = `${remembered}.tmp-${process.pid}`;
  await writeFile(temp, digest);
  await rename(temp, remembered);
  return digest;
}

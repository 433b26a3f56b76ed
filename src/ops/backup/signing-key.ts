/**
 * The backup signing key: 32 random bytes (hex) in a file outside the backup folder, by default
 * RAWRXD_HOME/keys/backup-signing.key (mode 0600). Whoever can rewrite the backup folder but not
 * read this file cannot forge a manifest. The optional encryption key is read the same way.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { SigningKey } from "./manifest.js";

export function keyIdOf(secret: Buffer): string {
  return createHash("sha256").update("rawrxd-backup-key:").update(secret).digest("hex").slice(0, 16);
}

/** Reads 32 bytes written as 64 hex digits (whitespace ignored), or throws saying what is wrong. */
export async function readKeyFile(path: string, purpose: string): Promise<Buffer> {
  const text = (await readFile(path, "utf8")).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new Error(
      `The backup ${purpose} key file ${path} must hold 64 hex digits (32 bytes); create one with: openssl rand -hex 32 > ${path}`,
    );
  return Buffer.from(text, "hex");
}

export async function loadOrCreateBackupSigningKey(path: string): Promise<SigningKey> {
  let secret: Buffer;
  try {
    secret = await readKeyFile(path, "signing");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    secret = randomBytes(32);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, secret.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    await chmod(path, 0o600);
  }
  return { secret, keyId: keyIdOf(secret) };
}

/** Reads an existing signing key; refuses to create one (verify and restore must not invent a key). */
export async function readBackupSigningKey(path: string): Promise<SigningKey> {
  const secret = await readKeyFile(path, "signing");
  return { secret, keyId: keyIdOf(secret) };
}

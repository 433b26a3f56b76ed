/**
 * The Ed25519 key that signs checkpoints. The private key lives in its own file (mode 0600)
 * outside the audit folder; an auditor needs only the public key (SPKI PEM) to verify.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** First 16 hex digits of the SHA-256 of the public key (DER): names the key in checkpoints. */
  keyId: string;
}

export function publicKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: "spki", format: "pem" }).toString();
}

export function generateSigningKey(): AuditSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey, keyId: publicKeyId(publicKey) };
}

/** Reads the private key at `privateKeyPath`; undefined when there is no such file. */
export async function loadSigningKey(privateKeyPath: string): Promise<AuditSigningKey | undefined> {
  let pem: string;
  try {
    pem = await readFile(privateKeyPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: publicKeyId(publicKey) };
}

/**
 * Reads the private key at `privateKeyPath`, or creates one there (0600, folder 0700) with its
 * public key beside it as `<path>.pub`. A `.pub` without its private key (a data folder restored
 * from a backup, which leaves the private key out) is refused rather than replaced: a new key
 * would overwrite the public key the log's checkpoints verify with.
 */
export async function loadOrCreateSigningKey(privateKeyPath: string): Promise<AuditSigningKey> {
  const existing = await loadSigningKey(privateKeyPath);
  if (existing !== undefined) return existing;
  const orphanPublicKey = await readPublicKey(`${privateKeyPath}.pub`).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  });
  if (orphanPublicKey !== undefined)
    throw new Error(
      `the private key is missing but its public key ${privateKeyPath}.pub is there (key ` +
        `${publicKeyId(orphanPublicKey)}, which signs this log's checkpoints; a backup leaves the private key out). ` +
        "Put back the private key you kept, or move the .pub aside to start a new key (checkpoints signed " +
        "before then verify only with the old public key)",
    );
  const key = generateSigningKey();
  await mkdir(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
  const privatePem = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  await writeFile(privateKeyPath, privatePem, { mode: 0o600, flag: "wx" });
  await chmod(privateKeyPath, 0o600);
  await writeFile(`${privateKeyPath}.pub`, publicKeyPem(key.publicKey));
  return key;
}

export async function readPublicKey(path: string): Promise<KeyObject> {
  return createPublicKey(await readFile(path, "utf8"));
}

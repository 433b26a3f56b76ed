/**
 * The last verification of each backup, `manifests/<id>.verified.json`, for `list` to show.
 * Informational only: nothing trusts it (a restore checks hashes itself), so it is not signed.
 */
import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { manifestsDirectory, writeFileAtomically } from "./manifest.js";

export interface VerificationRecord {
  ok: boolean;
  readData: boolean;
  atMs: number;
}

export function verificationPath(backupDir: string, id: string): string {
  return join(manifestsDirectory(backupDir), `${id}.verified.json`);
}

export async function writeVerification(
  backupDir: string,
  id: string,
  record: VerificationRecord,
): Promise<void> {
  await writeFileAtomically(verificationPath(backupDir, id), JSON.stringify(record)).catch(() => undefined);
}

export async function readVerification(
  backupDir: string,
  id: string,
): Promise<VerificationRecord | undefined> {
  try {
    const value = JSON.parse(
      await readFile(verificationPath(backupDir, id), "utf8"),
    ) as Partial<VerificationRecord>;
    if (typeof value.ok !== "boolean" || typeof value.atMs !== "number") return undefined;
    return { ok: value.ok, readData: value.readData === true, atMs: value.atMs };
  } catch {
    return undefined;
  }
}

export async function removeVerification(backupDir: string, id: string): Promise<void> {
  await unlink(verificationPath(backupDir, id)).catch(() => undefined);
}

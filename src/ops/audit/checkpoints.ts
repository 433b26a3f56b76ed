/**
 * Signed checkpoints: (seq, chain head, time) signed with Ed25519, appended to
 * `checkpoints.jsonl` in the audit folder and, when configured, in a witness folder the
 * writer's disk cannot rewrite unnoticed (the C2SP checkpoint / CloudTrail digest idea).
 */
import { sign, verify, type KeyObject } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "./canonical-json.js";
import type { AuditSigningKey } from "./signing-key.js";

export const checkpointFileName = "checkpoints.jsonl";

export interface CheckpointBody {
  seq: number;
  /** Hash of record `seq`. */
  head: string;
  /** UTC, ISO 8601. */
  time: string;
  node: string;
  keyId: string;
}

export interface Checkpoint extends CheckpointBody {
  /** Base64 Ed25519 signature over the canonical JSON of the body. */
  signature: string;
}

export function signCheckpoint(body: CheckpointBody, key: AuditSigningKey): Checkpoint {
  const signature = sign(null, Buffer.from(canonicalJson(body)), key.privateKey).toString("base64");
  return { ...body, signature };
}

export function hasValidSignature(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  const { signature, ...body } = checkpoint;
  try {
    return verify(null, Buffer.from(canonicalJson(body)), publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/** Appends one checkpoint line to `<directory>/checkpoints.jsonl` and syncs it. */
export async function appendCheckpoint(directory: string, checkpoint: Checkpoint): Promise<void> {
  const handle = await open(join(directory, checkpointFileName), "a", 0o644);
  try {
    await handle.write(canonicalJson(checkpoint) + "\n");
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export interface StoredCheckpoint {
  line: number;
  checkpoint: Checkpoint | undefined;
  text: string;
}

/** The checkpoints in a folder, in file order; none when the file is missing. */
export async function readCheckpoints(directory: string): Promise<StoredCheckpoint[]> {
  let text: string;
  try {
    text = await readFile(join(directory, checkpointFileName), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line, position) => ({ line: position + 1, text: line, checkpoint: parseCheckpoint(line) }));
}

function parseCheckpoint(line: string): Checkpoint | undefined {
  try {
    const value = JSON.parse(line) as Partial<Checkpoint>;
    if (
      typeof value.seq !== "number" ||
      typeof value.head !== "string" ||
      typeof value.signature !== "string"
    )
      return undefined;
    return value as Checkpoint;
  } catch {
    return undefined;
  }
}

/**
 * The checkpoints a node signed that its PostgreSQL witness has not got yet: those in the local
 * `checkpoints.jsonl` after the newest witnessed seq (a node restarted while PostgreSQL was
 * down, or a node whose witness was turned on later). Each goes with the segment holding its
 * record; only checkpoints that verify with the node's own key are offered.
 */
import type { KeyObject } from "node:crypto";
import { open } from "node:fs/promises";
import { hasValidSignature, readCheckpoints, type Checkpoint } from "./checkpoints.js";
import { parseRecordLine } from "./audit-record.js";
import { listSegments } from "./segment-files.js";

export interface WitnessItem {
  checkpoint: Checkpoint;
  segment: string;
}

export async function checkpointBacklog(
  directory: string,
  options: { publicKey: KeyObject; afterSeq: number },
): Promise<WitnessItem[]> {
  const wanted: Checkpoint[] = [];
  for (const stored of await readCheckpoints(directory)) {
    const checkpoint = stored.checkpoint;
    if (checkpoint === undefined || checkpoint.seq <= options.afterSeq) continue;
    if (hasValidSignature(checkpoint, options.publicKey)) wanted.push(checkpoint);
  }
  if (wanted.length === 0) return [];
  const starts: { name: string; firstSeq: number }[] = [];
  for (const segment of await listSegments(directory)) {
    const firstSeq = await firstSeqOf(segment.path);
    if (firstSeq !== undefined) starts.push({ name: segment.name, firstSeq });
  }
  return wanted.map((checkpoint) => ({
    checkpoint,
    segment: starts.findLast((start) => start.firstSeq <= checkpoint.seq)?.name ?? "(unknown segment)",
  }));
}

/** The seq of a segment's first record, reading only up to its first line break. */
async function firstSeqOf(path: string): Promise<number | undefined> {
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    for (let position = 0; ;) {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return undefined;
      position += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      const end = chunk.indexOf(0x0a);
      if (end !== -1)
        return parseRecordLine(Buffer.concat([...chunks, chunk.subarray(0, end)]).toString("utf8"))?.seq;
      chunks.push(chunk);
    }
  } finally {
    await handle.close();
  }
}

/** What the log finds on disk at open: the chain head and where the next record goes. */
import { genesisHash } from "./audit-record.js";
import { listSegments, readSegment, repairTornTail } from "./segment-files.js";

export interface OpenState {
  seq: number;
  head: string;
  lastTimeMs: number;
  segmentIndex: number;
  day: string;
  segmentBytes: number;
  segmentPath?: string;
}

export interface TornTailRepair {
  segment: string;
  cutBytes: number;
  cutText: string;
}

/** Cuts a torn last line first (only bytes after the last LF: nothing acknowledged is lost). */
export async function recoverState(
  directory: string,
): Promise<{ state: OpenState; repair?: TornTailRepair }> {
  const segments = await listSegments(directory);
  const newest = segments.at(-1);
  const empty: OpenState = {
    seq: 0,
    head: genesisHash,
    lastTimeMs: 0,
    segmentIndex: 0,
    day: "",
    segmentBytes: 0,
  };
  if (newest === undefined) return { state: empty };
  const cut = await repairTornTail(newest.path);
  const repair = cut.cutBytes > 0 ? { segment: newest.name, ...cut } : undefined;
  for (const segment of [...segments].reverse()) {
    const content = await readSegment(segment.path);
    const last = content.lines.at(-1)?.record;
    if (last === undefined) continue;
    const segmentBytes = content.lines.reduce((sum, line) => sum + Buffer.byteLength(line.text) + 1, 0);
    const isNewest = segment === newest;
    return {
      state: {
        seq: last.seq,
        head: last.hash,
        lastTimeMs: Date.parse(last.time),
        // A fresh segment after the newest when the newest has no records of its own.
        segmentIndex: isNewest ? segment.index : newest.index,
        day: isNewest ? segment.day : "",
        segmentBytes: isNewest ? segmentBytes : Number.POSITIVE_INFINITY,
        segmentPath: newest.path,
      },
      repair,
    };
  }
  return { state: { ...empty, segmentIndex: newest.index, segmentBytes: Number.POSITIVE_INFINITY }, repair };
}

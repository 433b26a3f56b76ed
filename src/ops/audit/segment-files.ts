/**
 * Segment files under the audit folder: `segment-<index>-<yyyymmdd>.jsonl`, one canonical
 * record per line. The index only grows, so a deleted segment leaves a gap in the numbering.
 */
import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseRecordLine, type AuditRecord } from "./audit-record.js";

export interface SegmentFile {
  index: number;
  /** UTC day of its records, `yyyymmdd`. */
  day: string;
  name: string;
  path: string;
}

const segmentPattern = /^segment-(\d{6})-(\d{8})\.jsonl$/;

export function segmentName(index: number, day: string): string {
  return `segment-${String(index).padStart(6, "0")}-${day}.jsonl`;
}

/** `yyyymmdd` of a wall time, in UTC. */
export function utcDay(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10).replaceAll("-", "");
}

/** Segments in index order; a missing folder has none. */
export async function listSegments(directory: string): Promise<SegmentFile[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const match = segmentPattern.exec(name);
    if (match) segments.push({ index: Number(match[1]), day: match[2]!, name, path: join(directory, name) });
  }
  return segments.sort((a, b) => a.index - b.index);
}

export interface SegmentLine {
  /** 1-based line number in its file. */
  line: number;
  text: string;
  record: AuditRecord | undefined;
}

export interface SegmentContent {
  lines: SegmentLine[];
  /** Bytes after the last LF: a record cut short by a crash, or empty. */
  tornTail: string;
}

export async function readSegment(path: string): Promise<SegmentContent> {
  const text = await readFile(path, "utf8");
  const end = text.lastIndexOf("\n") + 1;
  const lines = text
    .slice(0, end)
    .split("\n")
    .slice(0, -1)
    .map((lineText, position) => ({ line: position + 1, text: lineText, record: parseRecordLine(lineText) }));
  return { lines, tornTail: text.slice(end) };
}

/**
 * Cuts a partial last line (a write torn by a crash) off a segment. Returns the bytes cut, or 0.
 * Only bytes after the last LF go: every acknowledged record ended with one before its fsync.
 */
export async function repairTornTail(path: string): Promise<{ cutBytes: number; cutText: string }> {
  const { size } = await stat(path);
  if (size === 0) return { cutBytes: 0, cutText: "" };
  const handle = await open(path, "r+");
  try {
    const text = (await handle.readFile()).toString("utf8");
    const keepBytes = Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1));
    if (keepBytes === size) return { cutBytes: 0, cutText: "" };
    await handle.truncate(keepBytes);
    await handle.datasync();
    return { cutBytes: size - keepBytes, cutText: text.slice(text.lastIndexOf("\n") + 1) };
  } finally {
    await handle.close();
  }
}

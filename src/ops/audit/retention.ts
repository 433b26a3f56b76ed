/** Retention classes of the audit log (issue #11; HIPAA 45 CFR 164.316(b)(2): six years). */
import type { AuditRecord } from "./audit-record.js";
import { listSegments, readSegment } from "./segment-files.js";

export const auditProfiles = ["standard", "hipaa"] as const;
export type AuditProfile = (typeof auditProfiles)[number];

const dayMs = 86_400_000;

/** Days a record is kept at least; six years count their leap days. */
export const retentionDays: Readonly<Record<AuditProfile, number>> = {
  standard: 365,
  hipaa: 6 * 365 + 2,
};

export function retentionMs(profile: AuditProfile): number {
  return retentionDays[profile] * dayMs;
}

export interface ExpiredSegment {
  name: string;
  path: string;
  first: AuditRecord;
  last: AuditRecord;
}

/**
 * The sealed segments (index below `belowIndex`) whose newest record is older than `cutoffMs`:
 * the oldest run only, so a purge never leaves a hole between kept segments.
 */
export async function expiredSegments(
  directory: string,
  options: { belowIndex: number; cutoffMs: number },
): Promise<ExpiredSegment[]> {
  const expired: ExpiredSegment[] = [];
  for (const segment of await listSegments(directory)) {
    if (segment.index >= options.belowIndex) break;
    const records = (await readSegment(segment.path)).lines.flatMap((line) => line.record ?? []);
    const first = records[0];
    const last = records.at(-1);
    if (first === undefined || last === undefined || Date.parse(last.time) >= options.cutoffMs) break;
    expired.push({ name: segment.name, path: segment.path, first, last });
  }
  return expired;
}

/**
 * The time bounds an audit read takes, one parser for `rawrxd audit` and the admin routes:
 * a span back from now (`30s`, `30m`, `24h`, `7d`), epoch milliseconds, or an ISO 8601 date/time.
 */
const spanUnitsMs: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Wall-clock ms, or undefined when `text` is none of the accepted forms. */
export function parseAuditTime(text: string, nowMs: number): number | undefined {
  const span = /^(\d+)([smhd])$/.exec(text);
  // Ten or more digits are epoch ms; shorter ones ("2026") stay ISO years.
  const timeMs = span
    ? nowMs - Number(span[1]) * spanUnitsMs[span[2]!]!
    : /^\d{10,}$/.test(text)
      ? Number(text)
      : Date.parse(text);
  // Beyond what a Date can hold, a time would throw later where it is written as ISO text (a 500).
  return Number.isFinite(timeMs) && Math.abs(timeMs) <= maxDateMs ? timeMs : undefined;
}

/** The largest time a JavaScript Date represents (ECMAScript §21.4.1.1): ±100,000,000 days. */
const maxDateMs = 8.64e15;

/** What the accepted forms are, for error messages. */
export const auditTimeForms =
  "an ISO 8601 date or time, epoch milliseconds, or a span back from now like 24h";

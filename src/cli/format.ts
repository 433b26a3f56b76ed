/** Pure formatting for terminal output: relative times, durations and tables (sizes: core's formatBytes). */

const timeSteps: readonly { limitSeconds: number; unitSeconds: number; unit: string }[] = [
  { limitSeconds: 60, unitSeconds: 1, unit: "second" },
  { limitSeconds: 3600, unitSeconds: 60, unit: "minute" },
  { limitSeconds: 86_400, unitSeconds: 3600, unit: "hour" },
  { limitSeconds: 14 * 86_400, unitSeconds: 86_400, unit: "day" },
  { limitSeconds: 60 * 86_400, unitSeconds: 7 * 86_400, unit: "week" },
  { limitSeconds: 365 * 86_400, unitSeconds: 30 * 86_400, unit: "month" },
  { limitSeconds: Infinity, unitSeconds: 365 * 86_400, unit: "year" },
];

/** "just now", "3 minutes ago", "About an hour ago", "4 minutes from now". */
export function formatRelativeTime(date: Date, now: Date): string {
  const deltaMs = date.getTime() - now.getTime();
  if (Number.isNaN(deltaMs)) return "unknown";
  const seconds = Math.abs(deltaMs) / 1000;
  if (seconds < 1) return deltaMs < 0 ? "just now" : "now";
  const suffix = deltaMs < 0 ? "ago" : "from now";
  const step = timeSteps.find((candidate) => seconds < candidate.limitSeconds)!;
  const count = Math.floor(seconds / step.unitSeconds);
  if (count === 1 && step.unit !== "second") {
    const article = step.unit === "hour" ? "an" : "a";
    return `About ${article} ${step.unit} ${suffix}`;
  }
  return `${count} ${step.unit}${count === 1 ? "" : "s"} ${suffix}`;
}

/** The UNTIL column of `ps`: when a loaded model unloads. */
export function formatUntil(expiresAt: string | undefined, now: Date): string {
  if (expiresAt === undefined || expiresAt === "") return "Forever";
  const date = new Date(expiresAt);
  if (Number.isNaN(date.getTime())) return "Forever";
  // Keep-alive "forever" is sent as a date decades ahead (Ollama) or year 0 / 1970 (unset).
  if (date.getTime() - now.getTime() > 50 * 365 * 86_400_000 || date.getTime() <= 0) return "Forever";
  if (date.getTime() <= now.getTime()) return "Stopping...";
  return formatRelativeTime(date, now);
}

/** Nanoseconds (Ollama's durations) as "850ms", "1.25s", "2m3s". */
export function formatDurationNs(durationNs: number): string {
  const ms = durationNs / 1e6;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(2)}s`;
  return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
}

/** Columns padded to their widest cell, separated by three spaces, like `ollama ls`. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const formatRow = (cells: readonly string[]) =>
    headers
      .map((_, column) => (cells[column] ?? "").padEnd(widths[column]!))
      .join("   ")
      .trimEnd();
  return [formatRow(headers), ...rows.map(formatRow)].join("\n") + "\n";
}

/** Parameter counts as "260K", "7.2B". */
export function formatParameterCount(count: number): string {
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, suffix] of units) {
    if (count >= size) {
      const value = count / size;
      return `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))}${suffix}`;
    }
  }
  return String(count);
}

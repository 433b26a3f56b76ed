/** Display formats shared by the panels. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export function formatCount(count: number | null | undefined, digits = 1): string {
  if (count === null || count === undefined || !Number.isFinite(count)) return "–";
  if (count >= 1e9) return `${(count / 1e9).toFixed(digits)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(digits)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(digits)}K`;
  return Number.isInteger(count) ? String(count) : count.toFixed(digits);
}

/**
 * The one byte formatter: IEC binary units everywhere (B, KiB, MiB, GiB, TiB), as llama.cpp and
 * the kernel report memory, so a size in `rawrxd ls`, `rawrxd gpu`, a warning or an error reads
 * the same. One decimal below 100 of a unit, none from 100 up: 512 B, 1.1 MiB, 143 MiB, 7.5 GiB.
 */
const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  let value = bytes;
  let unitIndex = 0;
  while (value >= 1024 && unitIndex < units.length - 1) {
    value /= 1024;
    unitIndex++;
  }
  const unit = units[unitIndex]!;
  if (unitIndex === 0) return `${value} ${unit}`;
  // Round first, so 1023.96 KiB prints as "1024 KiB", never as "1024.0 KiB".
  const rounded = value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return rounded >= 100 ? `${rounded.toFixed(0)} ${unit}` : `${rounded.toFixed(1)} ${unit}`;
}

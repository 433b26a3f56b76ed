/**
 * Download progress for `pull` on stderr: a redrawn bar on a terminal, otherwise one line per
 * tenth of the file (or per 100 MiB when the size is unknown) so logs stay short.
 */
import { formatBytes, systemTime, type TimePort } from "../core/index.js";
import type { OutputStream } from "./cli-io.js";

export interface ProgressSnapshot {
  downloadedBytes: number;
  totalBytes: number | undefined;
}

export interface ProgressReporter {
  update(progress: ProgressSnapshot): void;
  /** Draws the last state and ends the line. */
  end(): void;
}

const redrawIntervalMs = 100;
const unknownTotalStepBytes = 100 * 1024 * 1024;

export function createProgressReporter(
  stream: OutputStream,
  options: {
    label: string;
    /** Paces redraws and measures the rate. Default `systemTime`. */
    time?: TimePort;
  },
): ProgressReporter {
  const time = options.time ?? systemTime;
  const nowMs = () => time.monotonicNow();
  const isTerminal = stream.isTTY === true;
  let first: { atMs: number; bytes: number } | undefined;
  let last: ProgressSnapshot | undefined;
  let lastDrawMs = -Infinity;
  let lastStep = -1;

  const bytesPerSecond = (progress: ProgressSnapshot): number | undefined => {
    if (first === undefined) return undefined;
    const elapsedMs = nowMs() - first.atMs;
    return elapsedMs < 250 ? undefined : ((progress.downloadedBytes - first.bytes) * 1000) / elapsedMs;
  };
  const line = (progress: ProgressSnapshot) =>
    formatProgressLine({ label: options.label, ...progress, bytesPerSecond: bytesPerSecond(progress) });

  return {
    update(progress) {
      first ??= { atMs: nowMs(), bytes: progress.downloadedBytes };
      last = progress;
      if (isTerminal) {
        if (nowMs() - lastDrawMs < redrawIntervalMs) return;
        lastDrawMs = nowMs();
        stream.write(`\r${line(progress)}\x1b[K`);
        return;
      }
      const step =
        progress.totalBytes === undefined || progress.totalBytes === 0
          ? Math.floor(progress.downloadedBytes / unknownTotalStepBytes)
          : Math.floor((progress.downloadedBytes / progress.totalBytes) * 10);
      if (step <= lastStep) return;
      lastStep = step;
      stream.write(line(progress) + "\n");
    },
    end() {
      if (last === undefined) return;
      if (isTerminal) stream.write(`\r${line(last)}\x1b[K\n`);
    },
  };
}

/** `pulling tiny  42% [========>           ] 120 MiB / 286 MiB  12.0 MiB/s` */
export function formatProgressLine(options: {
  label: string;
  downloadedBytes: number;
  totalBytes: number | undefined;
  bytesPerSecond?: number | undefined;
  barWidth?: number;
}): string {
  const { label, downloadedBytes, totalBytes } = options;
  const speed = options.bytesPerSecond === undefined ? "" : `  ${formatBytes(options.bytesPerSecond)}/s`;
  if (totalBytes === undefined || totalBytes === 0) {
    return `pulling ${label}  ${formatBytes(downloadedBytes)}${speed}`;
  }
  const fraction = Math.min(1, Math.max(0, downloadedBytes / totalBytes));
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const width = options.barWidth ?? 25;
  const filled = Math.floor(fraction * width);
  const bar = "=".repeat(filled) + (filled < width ? ">" + " ".repeat(width - filled - 1) : "");
  return `pulling ${label} ${percent} [${bar}] ${formatBytes(downloadedBytes)} / ${formatBytes(totalBytes)}${speed}`;
}

import { describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { createProgressReporter, formatProgressLine } from "./progress-reporter.js";

describe("formatProgressLine", () => {
  it("shows percent, bar, bytes and speed", () => {
    expect(
      formatProgressLine({
        label: "tiny",
        downloadedBytes: 512 * 1024,
        totalBytes: 1024 * 1024,
        bytesPerSecond: 2 * 1024 * 1024,
        barWidth: 10,
      }),
    ).toBe("pulling tiny  50% [=====>    ] 512 KiB / 1.0 MiB  2.0 MiB/s");
  });

  it("shows bytes alone when the size is unknown", () => {
    expect(formatProgressLine({ label: "tiny", downloadedBytes: 1_572_864, totalBytes: undefined })).toBe(
      "pulling tiny  1.5 MiB",
    );
  });
});

describe("createProgressReporter", () => {
  it("writes about one line per tenth when not a terminal", () => {
    const lines: string[] = [];
    const reporter = createProgressReporter({ write: (text: string) => lines.push(text) }, { label: "tiny" });
    for (let bytes = 0; bytes <= 1_000_000; bytes += 1000) {
      reporter.update({ downloadedBytes: bytes, totalBytes: 1_000_000 });
    }
    reporter.end();
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toContain("100%");
    expect(lines.every((line) => line.endsWith("\n"))).toBe(true);
  });

  it("redraws one line at most every 100 ms on a terminal", () => {
    const writes: string[] = [];
    const time = new FakeTime();
    const reporter = createProgressReporter(
      { write: (text: string) => writes.push(text), isTTY: true },
      { label: "tiny", time },
    );
    for (let step = 0; step <= 100; step++) {
      if (step > 0) time.advance(10);
      reporter.update({ downloadedBytes: step * 10_000, totalBytes: 1_000_000 });
    }
    reporter.end();
    expect(writes.length).toBeLessThanOrEqual(12);
    expect(writes.every((text) => text.startsWith("\r"))).toBe(true);
    expect(writes.at(-1)).toMatch(/100%.*\n$/);
  });
});

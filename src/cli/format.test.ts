import { describe, expect, it } from "vitest";
import {
  formatDurationNs,
  formatParameterCount,
  formatRelativeTime,
  formatTable,
  formatUntil,
} from "./format.js";

describe("formatRelativeTime", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  const ago = (seconds: number) => formatRelativeTime(new Date(now.getTime() - seconds * 1000), now);

  it("reads like a person would say it", () => {
    expect(ago(0.2)).toBe("just now");
    expect(ago(1)).toBe("1 second ago");
    expect(ago(45)).toBe("45 seconds ago");
    expect(ago(90)).toBe("About a minute ago");
    expect(ago(180)).toBe("3 minutes ago");
    expect(ago(3600)).toBe("About an hour ago");
    expect(ago(5 * 3600)).toBe("5 hours ago");
    expect(ago(3 * 86_400)).toBe("3 days ago");
    expect(ago(21 * 86_400)).toBe("3 weeks ago");
    expect(ago(90 * 86_400)).toBe("3 months ago");
    expect(ago(800 * 86_400)).toBe("2 years ago");
    expect(ago(-240)).toBe("4 minutes from now");
  });
});

describe("formatUntil", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  it("says when a model unloads", () => {
    expect(formatUntil("2025-06-01T12:04:00Z", now)).toBe("4 minutes from now");
    expect(formatUntil("2025-06-01T11:00:00Z", now)).toBe("Stopping...");
    expect(formatUntil("2318-01-01T00:00:00Z", now)).toBe("Forever");
    expect(formatUntil("0001-01-01T00:00:00Z", now)).toBe("Forever");
    expect(formatUntil(undefined, now)).toBe("Forever");
  });
});

describe("formatTable", () => {
  it("pads columns to the widest cell", () => {
    expect(
      formatTable(
        ["NAME", "SIZE"],
        [
          ["stories260K", "1.1 MiB"],
          ["a", ""],
        ],
      ),
    ).toBe("NAME          SIZE\nstories260K   1.1 MiB\na\n");
  });

  it("prints only the header for no rows", () => {
    expect(formatTable(["NAME", "SIZE"], [])).toBe("NAME   SIZE\n");
  });
});

describe("formatDurationNs and formatParameterCount", () => {
  it("formats nanoseconds", () => {
    expect(formatDurationNs(850e6)).toBe("850ms");
    expect(formatDurationNs(1.25e9)).toBe("1.25s");
    expect(formatDurationNs(123e9)).toBe("2m3s");
  });

  it("formats parameter counts", () => {
    expect(formatParameterCount(260_000)).toBe("260K");
    expect(formatParameterCount(7_241_000_000)).toBe("7.2B");
    expect(formatParameterCount(999)).toBe("999");
  });
});

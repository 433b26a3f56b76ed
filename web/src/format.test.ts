import { describe, expect, it } from "vitest";
import { formatBytes, formatCount, formatMs } from "./format.js";

describe("formats", () => {
  it("bytes, durations and counts, with a dash for missing values", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(16_428_800)).toBe("15.7 MiB");
    expect(formatBytes(null)).toBe("–");
    expect(formatMs(21.4)).toBe("21 ms");
    expect(formatMs(6300)).toBe("6.3 s");
    expect(formatMs(125_000)).toBe("2 min 5 s");
    expect(formatMs(299_600)).toBe("5 min 0 s");
    expect(formatMs(undefined)).toBe("–");
    expect(formatCount(292_800)).toBe("292.8K");
    expect(formatCount(2048, 0)).toBe("2K");
    expect(formatCount(806.24)).toBe("806.2");
    expect(formatCount(12)).toBe("12");
  });
});

import { describe, expect, it } from "vitest";
import { formatBytes } from "./bytes.js";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [512, "512 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1_185_376, "1.1 MiB"], // stories260K.gguf
    [143_200_000, "137 MiB"],
    [8 * 1024 ** 3, "8.0 GiB"],
    [1024 * 1024 - 1, "1024 KiB"],
    [-1, "?"],
    [Number.NaN, "?"],
  ])("%d bytes → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

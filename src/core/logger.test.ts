import { describe, expect, it } from "vitest";
import { FakeTime } from "./fake-time.js";
import { createLogger } from "./logger.js";

describe("createLogger", () => {
  it("writes one JSON line per record at or above its level, stamped by its wall clock", () => {
    const lines: string[] = [];
    const time = new FakeTime({ wallMs: Date.UTC(2026, 2, 4, 5, 6, 7) });
    const logger = createLogger("info", (line) => lines.push(line), time);
    logger.debug("hidden");
    logger.warn("Runner restarted", { model: "alpha" });
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      { time: "2026-03-04T05:06:07.000Z", level: "warn", message: "Runner restarted", model: "alpha" },
    ]);
  });
});

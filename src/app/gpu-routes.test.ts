import { describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { fakeProbes } from "../gpu/index.js";
import { startGpuService } from "./gpu-routes.js";

describe("GpuService", () => {
  it("serves the cached report for two seconds of its time port, then detects again", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 0, 1) });
    const service = await startGpuService("auto", fakeProbes({}), time);
    expect(await service.current()).toBe(service.initial);
    time.advance(2_000);
    expect(await service.current()).toBe(service.initial);
    time.advance(1);
    const refreshed = await service.current();
    expect(refreshed).not.toBe(service.initial);
    expect(refreshed.detectedAt).toBe("2026-01-01T00:00:02.001Z");
    expect(await service.current()).toBe(refreshed);
  });
});

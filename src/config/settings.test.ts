import { readFileSync } from "node:fs";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import { describeSettings, loadConfig } from "./index.js";

describe("settings", () => {
  it("flags win over env, env over defaults", () => {
    const config = loadConfig({
      flags: { port: "9000" },
      env: { RAWRXD_PORT: "8000", RAWRXD_PARALLEL: "3", RAWRXD_HOME: "/tmp/rawrxd-x" },
      readConfigFile: false,
    });
    expect(config.port).toBe(9000);
    expect(config.parallel).toBe(3);
    expect(config.modelsDir).toBe("/tmp/rawrxd-x/models");
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("an invalid value stops startup naming the setting and its source", () => {
    expect(() => loadConfig({ flags: {}, env: { RAWRXD_PORT: "http" }, readConfigFile: false })).toThrow(
      /Invalid setting port from env RAWRXD_PORT: expected an integer from 0 to 65535/,
    );
    expect(() => loadConfig({ flags: { "keep-alive": "soon" }, env: {}, readConfigFile: false })).toThrow(
      /keepAliveMs.*expected a duration/,
    );
    expect(() => loadConfig({ flags: { "engine-build": "fast" }, env: {}, readConfigFile: false })).toThrow(
      'Invalid setting engineBuild from flag --engine-build: expected one of auto, prebuilt, openmp, got "fast"',
    );
  });

  it("parses Ollama-style durations", () => {
    const config = loadConfig({
      flags: { "keep-alive": "1h30m", "queue-timeout": "-1" },
      env: {},
      readConfigFile: false,
    });
    expect(config.keepAliveMs).toBe(5_400_000);
    expect(config.queueTimeoutMs).toBe(-1);
  });

  it("the README's configuration table is generated from the settings table", async () => {
    // The README is prettier-formatted (npm run check), so compare with the table as prettier lays it out.
    const options = await resolveConfig("README.md");
    const table = await format(describeSettings("markdown"), { ...options, parser: "markdown" });
    expect(readFileSync("README.md", "utf8")).toContain(table.trim());
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "./index.js";

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "rawrxd-config-"));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function writeConfigFile(values: Record<string, unknown>): void {
  writeFileSync(join(home, "config.json"), JSON.stringify(values));
}

interface LayerCase {
  kind: string;
  key: keyof Config;
  flag: string | boolean;
  env: string;
  file: unknown;
  expected: { flag: unknown; env: unknown; file: unknown; default: unknown };
}

// One setting of each kind the table has; every layer gives a different value.
const cases: LayerCase[] = [
  {
    kind: "string",
    key: "host",
    flag: "127.0.0.2",
    env: "127.0.0.3",
    file: "127.0.0.4",
    expected: { flag: "127.0.0.2", env: "127.0.0.3", file: "127.0.0.4", default: "127.0.0.1" },
  },
  {
    kind: "number",
    key: "port",
    flag: "9001",
    env: "9002",
    file: 18555,
    expected: { flag: 9001, env: 9002, file: 18555, default: 11435 },
  },
  {
    kind: "auto or number",
    key: "threads",
    flag: "3",
    env: "auto",
    file: 5,
    expected: { flag: 3, env: 0, file: 5, default: 0 },
  },
  {
    kind: "boolean switch",
    key: "noMetrics",
    flag: true,
    env: "false",
    file: true,
    expected: { flag: true, env: false, file: true, default: false },
  },
  {
    kind: "duration",
    key: "keepAliveMs",
    flag: "1m",
    env: "30s",
    file: "1h",
    expected: { flag: 60_000, env: 30_000, file: 3_600_000, default: 300_000 },
  },
  {
    kind: "list",
    key: "pinnedModels",
    flag: "a,b",
    env: "c",
    file: ["d", "e"],
    expected: { flag: ["a", "b"], env: ["c"], file: ["d", "e"], default: [] },
  },
  {
    kind: "enum",
    key: "queuePolicy",
    flag: "fifo",
    env: "priority",
    file: "fifo",
    expected: { flag: "fifo", env: "priority", file: "fifo", default: "priority" },
  },
  {
    kind: "byte size",
    key: "memoryBudgetBytes",
    flag: "1GiB",
    env: "2GiB",
    file: "512MiB",
    expected: { flag: 1024 ** 3, env: 2 * 1024 ** 3, file: 512 * 1024 ** 2, default: -1 },
  },
  {
    kind: "path",
    key: "modelsDir",
    flag: "/tmp/rawrxd-flag-models",
    env: "/tmp/rawrxd-env-models",
    file: "/tmp/rawrxd-file-models",
    expected: {
      flag: "/tmp/rawrxd-flag-models",
      env: "/tmp/rawrxd-env-models",
      file: "/tmp/rawrxd-file-models",
      default: "HOME/models",
    },
  },
];

describe("loadConfig layers", () => {
  it.each(cases)("$kind setting $key: flag > env > config.json > default", (testCase) => {
    const { settings } = { settings: flagAndEnvNames(testCase.key) };
    const resolve = (layers: { flag?: boolean; env?: boolean; file?: boolean }): unknown => {
      rmSync(join(home, "config.json"), { force: true });
      if (layers.file === true) writeConfigFile({ [settings.fileKey]: testCase.file });
      const config = loadConfig({
        flags: layers.flag === true ? { [settings.flagName]: testCase.flag } : {},
        env: { RAWRXD_HOME: home, ...(layers.env === true ? { [settings.envName]: testCase.env } : {}) },
      });
      return config[testCase.key];
    };
    const expectedDefault =
      testCase.expected.default === "HOME/models" ? join(home, "models") : testCase.expected.default;
    expect(resolve({ flag: true, env: true, file: true })).toEqual(testCase.expected.flag);
    expect(resolve({ env: true, file: true })).toEqual(testCase.expected.env);
    expect(resolve({ file: true })).toEqual(testCase.expected.file);
    expect(resolve({})).toEqual(expectedDefault);
  });

  it("config.json in the default home may move home: data and the default models folder follow", () => {
    // The default home is ~/.rawrxd; os.homedir() reads HOME.
    const savedHome = process.env["HOME"];
    process.env["HOME"] = home;
    try {
      mkdirSync(join(home, ".rawrxd"));
      writeFileSync(join(home, ".rawrxd", "config.json"), JSON.stringify({ home: join(home, "elsewhere") }));
      const config = loadConfig({ env: {} });
      expect(config.home).toBe(join(home, "elsewhere"));
      expect(config.modelsDir).toBe(join(home, "elsewhere", "models"));
    } finally {
      process.env["HOME"] = savedHome;
    }
  });

  it("config.json keys are flag names without dashes, or the setting's own name", () => {
    writeConfigFile({ "context-size": 4096, "no-metrics": true, keepAliveMs: "2m", models: "/tmp/m" });
    const config = loadConfig({ env: { RAWRXD_HOME: home } });
    expect(config.contextTokens).toBe(4096);
    expect(config.noMetrics).toBe(true);
    expect(config.keepAliveMs).toBe(120_000);
    expect(config.modelsDir).toBe("/tmp/m");
  });

  it("an unknown config.json key stops startup naming the nearest setting", () => {
    writeConfigFile({ prot: 1 });
    expect(() => loadConfig({ env: { RAWRXD_HOME: home } })).toThrow(
      `Unknown setting "prot" in ${join(home, "config.json")}. Did you mean "port"?`,
    );
    writeConfigFile({ "contxt-size": 1 });
    expect(() => loadConfig({ env: { RAWRXD_HOME: home } })).toThrow(/Did you mean "context-size"\?/);
    writeConfigFile({ colour: "blue" });
    expect(() => loadConfig({ env: { RAWRXD_HOME: home } })).toThrow(/Unknown setting "colour".* Keys are/);
  });

  it("a setting given twice in config.json under its two names is refused", () => {
    writeConfigFile({ "context-size": 4096, contextTokens: 1024 });
    expect(() => loadConfig({ env: { RAWRXD_HOME: home } })).toThrow(
      /sets contextTokens twice, as "context-size" and as "contextTokens"/,
    );
  });

  it("an invalid config.json value names the file and the key", () => {
    writeConfigFile({ port: "http" });
    expect(() => loadConfig({ env: { RAWRXD_HOME: home } })).toThrow(
      `Invalid setting port from ${join(home, "config.json")} "port": expected an integer from 0 to 65535`,
    );
  });
});

function flagAndEnvNames(key: keyof Config): { flagName: string; envName: string; fileKey: string } {
  const names: Partial<Record<keyof Config, [string, string]>> = {
    host: ["host", "RAWRXD_HOST"],
    port: ["port", "RAWRXD_PORT"],
    threads: ["threads", "RAWRXD_THREADS"],
    noMetrics: ["no-metrics", "RAWRXD_NO_METRICS"],
    keepAliveMs: ["keep-alive", "RAWRXD_KEEP_ALIVE"],
    pinnedModels: ["pin", "RAWRXD_PIN"],
    queuePolicy: ["queue-policy", "RAWRXD_QUEUE_POLICY"],
    memoryBudgetBytes: ["memory-budget", "RAWRXD_MEMORY_BUDGET"],
    modelsDir: ["models", "RAWRXD_MODELS"],
  };
  const [flagName, envName] = names[key]!;
  return { flagName, envName, fileKey: flagName };
}

/**
 * Resolves the Config once: flags over env over RAWRXD_HOME/config.json over defaults.
 * An invalid value or an unknown config.json key stops startup with a message naming the
 * setting and its source.
 */
import { resolve } from "node:path";
import { AppError } from "../core/index.js";
import { readConfigFile } from "./config-file.js";
import { settings, type Config, type Setting } from "./settings.js";

export interface ConfigSources {
  flags?: Record<string, string | boolean>;
  env?: NodeJS.ProcessEnv;
  /** Read RAWRXD_HOME/config.json when present. Default true. */
  readConfigFile?: boolean;
}

const pathKeys: ReadonlySet<keyof Config> = new Set(["home", "modelsDir", "backupDir", "backupKeyFile"]);

interface Layers {
  flags: Record<string, string | boolean>;
  env: NodeJS.ProcessEnv;
  /** config.json's values by setting key; empty when there is no file. */
  file: Partial<Record<keyof Config, unknown>>;
  fileSource: string;
}

export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const layers: Layers = {
    flags: sources.flags ?? {},
    env: sources.env ?? process.env,
    file: {},
    fileSource: "",
  };
  // config.json lives in the home that flag, env or default name; it is read once, before any
  // setting is resolved, so every setting (home included) can come from it.
  if (sources.readConfigFile !== false) {
    const home = resolveSetting("home", layers, {}) as string;
    const file = readConfigFile(resolve(home));
    layers.file = file.values;
    layers.fileSource = file.path;
  }
  const resolved: Partial<Config> = {};
  for (const key of Object.keys(settings) as (keyof Config)[]) {
    (resolved as Record<string, unknown>)[key] = resolveSetting(key, layers, resolved);
  }
  return Object.freeze(resolved as Config);
}

function resolveSetting(key: keyof Config, layers: Layers, resolved: Partial<Config>): unknown {
  const setting = settings[key] as Setting<unknown>;
  const flagName = setting.flag.slice(2);
  const raw = pickRaw([
    ["flag " + setting.flag, layers.flags[flagName]],
    ["env " + setting.env, layers.env[setting.env]],
    [`${layers.fileSource} "${key}"`, layers.file[key]],
  ]);
  let value: unknown;
  if (raw === undefined) {
    value = setting.defaultValue(resolved);
  } else {
    try {
      value = setting.parse(raw.value);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError("bad-request", `Invalid setting ${key} from ${raw.source}: ${reason}.`);
    }
  }
  return pathKeys.has(key) ? resolve(value as string) : value;
}

function pickRaw(candidates: [string, unknown][]): { source: string; value: string } | undefined {
  for (const [source, value] of candidates) {
    if (value === undefined || value === null) continue;
    if (typeof value === "boolean") return { source, value: String(value) };
    if (Array.isArray(value)) return { source, value: value.map(String).join(",") };
    if (typeof value === "object") return { source, value: JSON.stringify(value) };
    return { source, value: typeof value === "string" ? value : JSON.stringify(value) };
  }
  return undefined;
}

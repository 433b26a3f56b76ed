/**
 * Resolves the Config once: flags over env over RAWRXD_HOME/config.json over defaults.
 * An invalid value stops startup with a message naming the setting and its source.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AppError } from "../core/index.js";
import { settings, type Config, type Setting } from "./settings.js";

export interface ConfigSources {
  flags?: Record<string, string | boolean>;
  env?: NodeJS.ProcessEnv;
  /** Read RAWRXD_HOME/config.json when present. Default true. */
  readConfigFile?: boolean;
}

const pathKeys: ReadonlySet<keyof Config> = new Set(["home", "modelsDir"]);

export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const flags = sources.flags ?? {};
  const env = sources.env ?? process.env;
  const resolved: Partial<Config> = {};
  let fileValues: Record<string, unknown> | undefined;

  for (const key of Object.keys(settings) as (keyof Config)[]) {
    const setting = settings[key] as Setting<unknown>;
    if (key === "modelsDir" && fileValues === undefined && sources.readConfigFile !== false) {
      fileValues = readConfigFile(resolved.home!);
    }
    const flagName = setting.flag.slice(2);
    const raw = pickRaw([
      ["flag " + setting.flag, flags[flagName]],
      ["env " + setting.env, env[setting.env]],
      [`config.json "${key}"`, fileValues?.[key]],
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
    (resolved as Record<string, unknown>)[key] = pathKeys.has(key) ? resolve(value as string) : value;
  }
  return Object.freeze(resolved as Config);
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

function readConfigFile(home: string): Record<string, unknown> | undefined {
  const path = join(home, "config.json");
  if (!existsSync(path)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error("expected a JSON object");
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("bad-request", `Cannot read ${path}: ${reason}. Fix or remove the file.`);
  }
}

/** Help text for `rawrxd serve --help` and the README table, from the same table. */
export function describeSettings(format: "help" | "markdown"): string {
  const rows = Object.entries(settings).map(([key, setting]) => {
    const typed = setting as Setting<unknown>;
    return { ...typed, key, flag: typed.flag + (typed.isSwitch ? "" : " VALUE") };
  });
  if (format === "markdown") {
    return [
      "| flag | env | default | meaning |",
      "|---|---|---|---|",
      ...rows.map((row) => `| \`${row.flag}\` | \`${row.env}\` | ${row.defaultText} | ${row.description} |`),
    ].join("\n");
  }
  return rows
    .map(
      (row) =>
        `  ${row.flag.padEnd(28)} ${row.description}\n  ${"".padEnd(28)} env ${row.env}, default ${row.defaultText}`,
    )
    .join("\n");
}

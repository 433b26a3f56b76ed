/**
 * RAWRXD_HOME/config.json: a JSON object of settings. A key is a flag name without its dashes
 * (`"context-size": 4096`) or the setting's name (`"contextTokens"`); any other key stops startup
 * with the nearest name, so a typo never passes silently.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../core/index.js";
import { nearestName } from "./nearest-name.js";
import { settings, type Config } from "./settings.js";

export interface ConfigFile {
  path: string;
  /** Values by setting key; empty when the file does not exist. */
  values: Partial<Record<keyof Config, unknown>>;
}

/** Every name config.json accepts, mapped to its setting. */
const keysByFileName: ReadonlyMap<string, keyof Config> = new Map(
  (Object.keys(settings) as (keyof Config)[]).flatMap((key) => [
    [settings[key].flag.slice(2), key],
    [key, key],
  ]),
);

export function readConfigFile(home: string): ConfigFile {
  const path = join(home, "config.json");
  if (!existsSync(path)) return { path, values: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error("expected a JSON object");
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("bad-request", `Cannot read ${path}: ${reason}. Fix or remove the file.`);
  }
  const values: Partial<Record<keyof Config, unknown>> = {};
  const givenAs = new Map<keyof Config, string>();
  for (const [name, value] of Object.entries(parsed)) {
    const key = keysByFileName.get(name);
    if (key === undefined) throw unknownKeyError(path, name);
    const earlier = givenAs.get(key);
    if (earlier !== undefined) {
      throw new AppError(
        "bad-request",
        `${path} sets ${key} twice, as "${earlier}" and as "${name}". Keep one of them.`,
      );
    }
    givenAs.set(key, name);
    values[key] = value;
  }
  return { path, values };
}

function unknownKeyError(path: string, name: string): AppError {
  const nearest = nearestName(name, keysByFileName.keys());
  const hint = nearest === undefined ? "" : ` Did you mean "${nearest}"?`;
  return new AppError(
    "bad-request",
    `Unknown setting "${name}" in ${path}.${hint} Keys are flag names without the dashes ` +
      `(see "rawrxd serve --help"), such as "port" or "context-size".`,
  );
}

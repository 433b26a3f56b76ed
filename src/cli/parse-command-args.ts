/**
 * Flag parsing for the commands: settings flags (and their llama-server aliases) come from the
 * settings table, and every parse error becomes a one-line usage error.
 */
import { loadConfig, settings, type Config, type Setting } from "../config/index.js";
import { AppError } from "../core/index.js";
import { usageError, type CliIo } from "./cli-io.js";
import { OptionError, parseOptions, type OptionSpecs } from "./parse-options.js";

type OptionsConfig = OptionSpecs;
export type FlagValues = Record<string, string | boolean | undefined>;

/** The settings every client command accepts. */
export const clientSettingKeys: readonly (keyof Config)[] = ["host", "port", "home", "modelsDir"];
export const allSettingKeys = Object.keys(settings) as (keyof Config)[];

/** parseArgs options for the given settings: `--port VALUE`, switches as booleans. */
export function settingsFlagOptions(keys: readonly (keyof Config)[]): OptionsConfig {
  const options: OptionsConfig = {};
  for (const key of keys) {
    const setting = settings[key] as Setting<unknown>;
    options[setting.flag.slice(2)] = {
      type: setting.isSwitch === true ? "boolean" : "string",
      ...(setting.aliases === undefined ? {} : { aliases: setting.aliases }),
    };
  }
  return options;
}

export interface ParsedCommandArgs {
  values: FlagValues;
  /** The values of repeatable options, by long name. */
  lists: Record<string, string[]>;
  positionals: string[];
}

export function parseCommandArgs(
  command: string,
  args: string[],
  options: { flags: OptionsConfig; minPositionals: number; maxPositionals: number },
): ParsedCommandArgs {
  let parsed;
  try {
    parsed = parseOptions(args, options.flags);
  } catch (error) {
    if (error instanceof OptionError) throw usageError(command, error.message);
    throw error;
  }
  const { positionals } = parsed;
  if (positionals.length < options.minPositionals) throw usageError(command, "Missing argument.");
  if (positionals.length > options.maxPositionals) {
    throw usageError(command, `Unexpected argument "${positionals[options.maxPositionals]}".`);
  }
  return { values: parsed.values, lists: parsed.lists, positionals };
}

/** True when `--help` or `-h` appears before a `--` terminator. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

/** Builds the Config from the parsed settings flags and the environment. Bad values: exit 2. */
export function configFromFlags(
  command: string,
  values: FlagValues,
  options: { keys: readonly (keyof Config)[]; io: CliIo },
): Readonly<Config> {
  const flags: Record<string, string | boolean> = {};
  for (const key of options.keys) {
    const flagName = settings[key].flag.slice(2);
    const value = values[flagName];
    if (value !== undefined) flags[flagName] = value;
  }
  try {
    return loadConfig({ flags, env: options.io.env });
  } catch (error) {
    if (error instanceof AppError) throw usageError(command, error.message);
    throw error;
  }
}

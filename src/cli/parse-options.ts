/**
 * The command-line option parser. Unlike node:util parseArgs it takes a negative number as an
 * option's value (`--temperature -1`), knows multi-letter single-dash aliases as llama-server
 * spells them (`-ngl 99`, reported whole when unknown), and suggests the nearest option for a typo.
 */
import { nearestName } from "../config/index.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** Other spellings, with their dashes: `-c`, `--ctx-size`. */
  aliases?: readonly string[];
  /** A value option that may repeat (`--type a --type b`): its values go to `lists`, in order. */
  multiple?: boolean;
}

/** Options by long name without the dashes (`context-size`). */
export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedOptions {
  /** By long name: a string for value options, true for switches. */
  values: Record<string, string | boolean | undefined>;
  /** By long name, the values of `multiple` options. */
  lists: Record<string, string[]>;
  positionals: string[];
}

/** A bad command line; the message is one sentence for the user. */
export class OptionError extends Error {
  override readonly name = "OptionError";
}

const negativeNumber = /^-(\d|\.\d)/;

export function parseOptions(args: readonly string[], specs: OptionSpecs): ParsedOptions {
  const byName = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byName.set(`--${name}`, name);
    for (const alias of spec.aliases ?? []) byName.set(alias, name);
  }
  const values: ParsedOptions["values"] = {};
  const lists: ParsedOptions["lists"] = {};
  const positionals: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      positionals.push(...args.slice(index + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || negativeNumber.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const written = equals === -1 ? arg : arg.slice(0, equals);
    const name = byName.get(written);
    if (name === undefined) throw unknownOptionError(written, byName.keys());
    if (specs[name]!.type === "boolean") {
      if (equals !== -1) throw new OptionError(`Option '${written}' takes no value.`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (equals !== -1) {
      value = arg.slice(equals + 1);
    } else {
      const next = args[index + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !negativeNumber.test(next))) {
        throw new OptionError(`Option '${written}' needs a value.`);
      }
      value = next;
      index++;
    }
    if (specs[name]!.multiple === true) (lists[name] ??= []).push(value);
    else values[name] = value;
  }
  return { values, lists, positionals };
}

function unknownOptionError(written: string, known: Iterable<string>): OptionError {
  const nearest = nearestName(written, known);
  return new OptionError(
    `Unknown option '${written}'.${nearest === undefined ? "" : ` Did you mean ${nearest}?`}`,
  );
}

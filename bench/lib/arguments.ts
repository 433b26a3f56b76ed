/** Command-line values the benchmarks share, checked with an error that names the flag. */
import { modelKeys, type ModelKey } from "./models.js";

/** `--models stories,134m`: each must be a bench model key. */
export function modelsArgument(text: string): ModelKey[] {
  return text.split(",").map((key) => {
    if (!modelKeys.includes(key as ModelKey))
      throw new Error(`--models takes ${modelKeys.join(", ")}, got "${key}".`);
    return key as ModelKey;
  });
}

/** `--NAME N`: a whole number of at least `min`. */
export function integerArgument(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} takes a whole number of ${min} or more, got "${text}".`);
  return value;
}

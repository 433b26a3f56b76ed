/**
 * Plain words the benchmarks build prompts from: each suite picks them in its own order, so a
 * prompt's first word differs per rep and a server's prefix cache cannot reuse one rep's prompt
 * for the next unless the suite means it to.
 */
export const promptWords: readonly string[] = [
  "river",
  "stone",
  "garden",
  "window",
  "lantern",
  "market",
  "harbor",
  "meadow",
  "candle",
  "bridge",
  "forest",
  "letter",
  "kitchen",
  "mountain",
  "signal",
  "thunder",
];

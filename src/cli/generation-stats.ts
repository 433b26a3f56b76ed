/** The `--verbose` summary of `rawrxd run`, from a stream's final line (generate or chat). */
import { formatDurationNs } from "./format.js";
import type { GenerateLine } from "./wire-schemas.js";

/** The `--verbose` summary, from the stream's final line. */
export function formatGenerationStats(final: GenerateLine): string {
  const rate = (count: number | undefined, durationNs: number | undefined) =>
    count === undefined || durationNs === undefined || durationNs <= 0
      ? undefined
      : `${((count * 1e9) / durationNs).toFixed(2)} tokens/s`;
  const rows: [string, string | undefined][] = [
    [
      "total duration",
      final.total_duration === undefined ? undefined : formatDurationNs(final.total_duration),
    ],
    ["load duration", final.load_duration === undefined ? undefined : formatDurationNs(final.load_duration)],
    [
      "prompt eval count",
      final.prompt_eval_count === undefined ? undefined : `${final.prompt_eval_count} token(s)`,
    ],
    ["prompt eval rate", rate(final.prompt_eval_count, final.prompt_eval_duration)],
    ["eval count", final.eval_count === undefined ? undefined : `${final.eval_count} token(s)`],
    ["eval duration", final.eval_duration === undefined ? undefined : formatDurationNs(final.eval_duration)],
    ["eval rate", rate(final.eval_count, final.eval_duration)],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([label, value]) => `${(label + ":").padEnd(20)}${value}\n`)
    .join("");
}

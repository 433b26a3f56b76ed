/** The peer benchmark's saved-KV table: the prompt cache after a restart and resume after preemption. */
import { median } from "../lib/stats.js";
import { formatNumber } from "../lib/table.js";
import type { KvRows } from "./peer-kv.js";
import { markdownTable } from "./peer-report.js";
import { verdict } from "./peer-targets.js";

export function formatKvTables(kvRows: readonly KvRows[]): string {
  if (kvRows.length === 0) return "";
  const lines = kvRows.flatMap((rows) => {
    const { restart, preemption } = rows;
    const promptTokens = median(restart.rows.map((row) => row.none.promptTokens));
    const cached = median(restart.rows.map((row) => row.cache.cachedTokens));
    const reevaluated = preemption.reevaluatedTokens;
    return [
      [
        rows.model,
        `restarted server, first request on a ${formatNumber(promptTokens, 0)}-token system prompt (${rows.systemWords} words): TTFT no cache ${formatNumber(restart.noneTtftMs, 1)} ms, --prompt-cache ${formatNumber(restart.cacheTtftMs, 1)} ms (${formatNumber(cached, 0)} tokens cached); llama-server (defaults, no cache) ${formatNumber(rows.llamaServerTtftMs, 1)} ms`,
        `${formatNumber(restart.gain, 1)}× (÷ llama-server: ${formatNumber(rows.llamaServerTtftMs / restart.cacheTtftMs, 1)}×); same text ${restart.sameText}/${restart.rows.length}`,
        "≥ 5×",
        verdict(restart.gain, { direction: "≥", goal: 5, unit: "×" }),
      ],
      [
        rows.model,
        `resume after preemption: ${preemption.preemptions} preemptions over ${preemption.rows.length} low-priority streams of ${preemption.completionTokens} tokens`,
        `${reevaluated} re-evaluated of ${preemption.completionTokens}; same text ${preemption.sameText}/${preemption.rows.length}`,
        "0",
        preemption.preemptions === 0
          ? "n/a (no preemption happened)"
          : reevaluated === 0
            ? "met"
            : `missed by ${reevaluated} tokens`,
      ],
    ];
  });
  return `### Saved KV state (RawrXD --threads 1 --parallel 1, as bench:kv-state)\n\n${markdownTable(
    ["model", "measure", "value", "target", "verdict"],
    lines,
  )}`;
}

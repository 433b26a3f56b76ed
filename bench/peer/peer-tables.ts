/**
 * The peer benchmark's README-ready tables, per model: every workload × variant as the median
 * over rounds with the paired ratio to llama-server (defaults), then the ratios the issue's
 * targets name (RawrXD against node-llama-cpp direct at the same threads, 2 threads against 1,
 * both at 1 thread, speculation on the copying prompt and whether greedy text stayed the same).
 */
import {
  cell,
  formatCell,
  markdownTable,
  sameGreedyText,
  type BlockResult,
  type Metric,
} from "./peer-report.js";
import { referenceKey, type Variant } from "./peer-variants.js";

const rows: { metric: Metric; label: string; digits: number; reference: boolean }[] = [
  { metric: "decode", label: "1 stream, decode tok/s", digits: 1, reference: true },
  { metric: "ttft", label: "1 stream, TTFT ms", digits: 1, reference: true },
  { metric: "aggregate", label: "4 concurrent streams, aggregate tok/s", digits: 1, reference: true },
  { metric: "copyDecode", label: "copying prompt, decode tok/s", digits: 1, reference: true },
  { metric: "acceptance", label: "copying prompt, draft acceptance", digits: 2, reference: false },
  {
    metric: "cpuPerToken",
    label: "CPU ms / streamed token: RawrXD main process (llama-server: whole process)",
    digits: 3,
    reference: false,
  },
];

function pairs(
  blocks: readonly BlockResult[],
  model: string,
  list: { label: string; variant: string; reference: string; metric: Metric; referenceMetric?: Metric }[],
): string[][] {
  return list.map((pair) => {
    const value = cell(blocks, { model, ...pair });
    return [pair.label, Number.isFinite(value.ratio) ? `${value.ratio.toFixed(2)}×` : "n/a"];
  });
}

export function formatPeerTables(
  blocks: readonly BlockResult[],
  options: { models: { key: string; label: string }[]; variants: readonly Variant[] },
): string {
  const hasReference = options.variants.some((variant) => variant.key === referenceKey);
  const sections: string[] = [];
  for (const model of options.models) {
    const main = markdownTable(
      ["workload", ...options.variants.map((variant) => variant.label)],
      rows.map((row) => [
        row.label,
        ...options.variants.map((variant) =>
          formatCell(
            cell(blocks, {
              model: model.key,
              variant: variant.key,
              metric: row.metric,
              reference:
                row.reference && hasReference && variant.key !== referenceKey ? referenceKey : undefined,
            }),
            row.digits,
          ),
        ),
      ]),
    );
    const targets = markdownTable(
      ["paired ratio (median over rounds)", "value"],
      [
        ...pairs(blocks, model.key, [
          { label: "RawrXD 1T ÷ node-llama-cpp direct 1T, 1 stream decode", variant: "rawrxd-t1", reference: "direct-t1", metric: "decode" },
          { label: "RawrXD 2T ÷ node-llama-cpp direct 2T, 1 stream decode", variant: "rawrxd-t2", reference: "direct-t2", metric: "decode" },
          { label: "RawrXD 2T ÷ RawrXD 1T, 1 stream decode", variant: "rawrxd-t2", reference: "rawrxd-t1", metric: "decode" },
          { label: "RawrXD 1T ÷ llama-server -t 1, 1 stream decode", variant: "rawrxd-t1", reference: "llama-server-t1", metric: "decode" },
          { label: "RawrXD 2T 4-stream aggregate ÷ its own 1 stream", variant: "rawrxd-t2", reference: "rawrxd-t2", metric: "aggregate", referenceMetric: "decode" },
          { label: "llama-server ngram-simple ÷ llama-server, copying prompt", variant: "llama-server-spec", reference: referenceKey, metric: "copyDecode" },
          { label: "llama-server ngram-simple ÷ llama-server, free text", variant: "llama-server-spec", reference: referenceKey, metric: "decode" },
        ]), // prettier-ignore
        [
          "llama-server: same greedy text with ngram-simple (copying prompt)",
          sameGreedyText(blocks, { model: model.key, left: "llama-server-spec", right: referenceKey }),
        ],
        [
          "RawrXD 2T and llama-server: same greedy text (copying prompt)",
          sameGreedyText(blocks, { model: model.key, left: "rawrxd-t2", right: referenceKey }),
        ],
        [
          "RawrXD speculative decoding",
          "n/a until the engine reports drafted tokens in usage (acceptance row)",
        ],
        ["prompt cache after a restart", "n/a here: npm run bench:kv-state measures it"],
      ],
    );
    sections.push(`### ${model.label}\n\n${main}\n\n${targets}`);
  }
  return sections.join("\n\n");
}

/**
 * The peer benchmark's README-ready tables, per model: every workload × variant (speculative
 * variants aside) as the median over rounds with the paired ratio to llama-server (defaults);
 * the thread count RawrXD's defaults chose; speculation against its baseline (speed, acceptance,
 * same greedy text, how much of the continuation the copying prompt reproduced); and the
 * issue's targets, each met or missed by how much.
 */
import { median } from "../lib/stats.js";
import { copiedShare, type CopyWorkload } from "./copy-workload.js";
import {
  acceptanceText,
  cell,
  formatCell,
  markdownTable,
  sameGreedyText,
  type BlockResult,
  type Metric,
} from "./peer-report.js";
import { targetText, valueText, verdict, type Target } from "./peer-targets.js";
import { buildDefaultKey, defaultKey, referenceKey, type Variant } from "./peer-variants.js";

const rows: { metric: Metric; label: string; digits: number }[] = [
  { metric: "decode", label: "1 stream, decode tok/s", digits: 1 },
  { metric: "ttft", label: "1 stream, TTFT ms", digits: 1 },
  { metric: "aggregate", label: "4 concurrent streams, aggregate tok/s", digits: 1 },
  { metric: "output", label: "4 concurrent streams, output tok/s (sent → last token)", digits: 1 },
  { metric: "copyDecode", label: "copying prompt, decode tok/s", digits: 1 },
  { metric: "cpuPerToken", label: "CPU ms / streamed token: RawrXD main process (llama-server: whole process)", digits: 3 },
]; // prettier-ignore

interface TargetRow {
  label: string;
  variant: string;
  reference?: string;
  metric: Metric;
  referenceMetric?: Metric;
  target?: Target;
}

const atLeast = (goal: number): Target => ({ direction: "≥", goal, unit: "×" });

const perToken: Target = { direction: "≤", goal: 0.05, unit: "ms" };

/** The serving targets for one engine build: its defaults, 1T and 2T variants, and node-llama-cpp direct on it. */
function servingRows(
  prefix: string,
  keys: { defaults: string; t1: string; t2: string; direct1: string; direct2: string },
): TargetRow[] {
  return [
    { label: `${prefix}1 stream decode: RawrXD (defaults) ÷ llama-server (defaults)`, variant: keys.defaults, reference: referenceKey, metric: "decode", target: atLeast(0.95) },
    { label: `${prefix}1 stream decode: RawrXD 1T ÷ node-llama-cpp direct 1T`, variant: keys.t1, reference: keys.direct1, metric: "decode", target: atLeast(0.95) },
    { label: `${prefix}1 stream decode: RawrXD 2T ÷ node-llama-cpp direct 2T`, variant: keys.t2, reference: keys.direct2, metric: "decode", target: atLeast(0.95) },
    { label: `${prefix}4-stream aggregate: RawrXD (defaults) ÷ llama-server -np 4`, variant: keys.defaults, reference: referenceKey, metric: "aggregate", target: atLeast(1) },
    { label: `${prefix}4-stream output (sent → last token): RawrXD (defaults) ÷ llama-server -np 4`, variant: keys.defaults, reference: referenceKey, metric: "output" },
    { label: `${prefix}4-stream aggregate: RawrXD (defaults) ÷ its own 1 stream`, variant: keys.defaults, reference: keys.defaults, metric: "aggregate", referenceMetric: "decode", target: atLeast(1) },
    { label: `${prefix}1 stream decode: RawrXD 2T ÷ RawrXD 1T`, variant: keys.t2, reference: keys.t1, metric: "decode", target: atLeast(1) },
    { label: `${prefix}main-process CPU per streamed token: RawrXD (defaults)`, variant: keys.defaults, metric: "cpuPerToken", target: perToken },
  ]; // prettier-ignore
}

function targetRows(speculative: readonly Variant[]): TargetRow[] {
  return [
    ...servingRows("", { defaults: defaultKey, t1: "rawrxd-t1", t2: "rawrxd-t2", direct1: "direct-t1", direct2: "direct-t2" }),
    { label: "main-process CPU per streamed token: RawrXD 1T", variant: "rawrxd-t1", metric: "cpuPerToken", target: perToken },
    { label: "main-process CPU per streamed token: RawrXD 2T", variant: "rawrxd-t2", metric: "cpuPerToken", target: perToken },
    ...speculative.flatMap((variant): TargetRow[] => [
      { label: `copying prompt decode: ${variant.label} ÷ without`, variant: variant.key, reference: variant.baseline, metric: "copyDecode", target: variant.key.startsWith("rawrxd") ? atLeast(1.5) : undefined },
      { label: `free text decode: ${variant.label} ÷ without`, variant: variant.key, reference: variant.baseline, metric: "decode", target: variant.key.startsWith("rawrxd") ? atLeast(0.97) : undefined },
    ]),
    { label: "1 stream decode: RawrXD 1T ÷ llama-server -t 1", variant: "rawrxd-t1", reference: "llama-server-t1", metric: "decode" },
    // After the one extra command, `npm run engine:build` (the same rows on the local OpenMP build).
    ...servingRows("engine:build — ", { defaults: buildDefaultKey, t1: "rawrxd-build-t1", t2: "rawrxd-build-t2", direct1: "direct-build-t1", direct2: "direct-build-t2" }),
    { label: "engine:build — 1 stream decode: RawrXD (defaults) ÷ RawrXD (defaults) prebuilt", variant: buildDefaultKey, reference: defaultKey, metric: "decode" },
    { label: "engine:build — 4-stream aggregate: RawrXD (defaults) ÷ RawrXD (defaults) prebuilt", variant: buildDefaultKey, reference: defaultKey, metric: "aggregate" },
  ]; // prettier-ignore
}

function targetTable(blocks: readonly BlockResult[], model: string, variants: readonly Variant[]): string {
  const present = new Set(variants.map((variant) => variant.key));
  const speculative = variants.filter((variant) => variant.baseline !== undefined);
  const lines = targetRows(speculative)
    .filter((row) => present.has(row.variant) && (row.reference === undefined || present.has(row.reference)))
    .map((row) => {
      const measured = cell(blocks, { model, ...row });
      const value = row.reference === undefined ? measured.value : measured.ratio;
      const unit = row.target?.unit ?? "×";
      return [
        row.label,
        valueText(value, unit),
        row.target === undefined ? "–" : targetText(row.target),
        row.target === undefined ? "–" : verdict(value, row.target),
      ];
    });
  const sameText = [
    ...speculative.map((variant) => ({ left: variant.key, right: variant.baseline!, what: `${variant.label} and without` })),
    { left: defaultKey, right: referenceKey, what: "RawrXD (defaults) and llama-server (defaults)" },
  ]; // prettier-ignore
  for (const pair of sameText) {
    if (!present.has(pair.left) || !present.has(pair.right)) continue;
    const counts = (["copy", "single"] as const).map((workload) =>
      sameGreedyText(blocks, { model, left: pair.left, right: pair.right, workload }),
    );
    const isSpeculative = pair.left !== defaultKey;
    const all = counts.every((count) => count === "n/a" || count.split("/")[0] === count.split("/")[1]);
    lines.push([
      `same greedy text, ${pair.what}`,
      `copying ${counts[0]}, free ${counts[1]}`,
      isSpeculative ? "all" : "–",
      isSpeculative ? (all ? "met" : "missed: see the texts in peer-latest.json") : "–",
    ]);
  }
  return markdownTable(["measure (paired by round, median)", "value", "target", "verdict"], lines);
}

function speculationTable(
  blocks: readonly BlockResult[],
  model: string,
  options: { variants: readonly Variant[]; copy: CopyWorkload | undefined },
): string {
  const { variants, copy } = options;
  const shown = variants.filter(
    (variant) => variant.baseline !== undefined || variant.key === defaultKey || variant.key === referenceKey,
  );
  const copied = (variant: string): string => {
    if (copy === undefined) return "n/a";
    const shares = blocks
      .filter((block) => block.model === model && block.variant === variant)
      .flatMap((block) => block.generations.copy ?? [])
      .map((generation) => copiedShare(copy, generation.text));
    const value = median(shares);
    return Number.isFinite(value) ? `${(value * 100).toFixed(0)} %` : "n/a";
  };
  const lines = shown.map((variant) => {
    const paired = (metric: Metric): string =>
      formatCell(cell(blocks, { model, variant: variant.key, metric, reference: variant.baseline }), 1);
    return [
      variant.label,
      paired("copyDecode"),
      acceptanceText(blocks, { model, variant: variant.key, workload: "copy" }),
      copied(variant.key),
      paired("decode"),
      acceptanceText(blocks, { model, variant: variant.key, workload: "single" }),
    ];
  });
  return markdownTable(
    [
      "speculation (× its baseline without)",
      "copying: decode tok/s",
      "copying: accepted/drafted",
      "copying: continuation reproduced",
      "free text: decode tok/s",
      "free text: accepted/drafted",
    ],
    lines,
  );
}

export function formatPeerTables(
  blocks: readonly BlockResult[],
  options: {
    models: { key: string; label: string }[];
    variants: readonly Variant[];
    copyWorkloads: readonly CopyWorkload[];
  },
): string {
  if (options.variants.length === 0) return "";
  const hasReference = options.variants.some((variant) => variant.key === referenceKey);
  const plain = options.variants.filter((variant) => variant.baseline === undefined);
  const sections: string[] = [];
  for (const model of options.models) {
    const table = (columns: readonly Variant[]): string =>
      markdownTable(
        ["workload", ...columns.map((variant) => variant.label)],
        rows.map((row) => [
          row.label,
          ...columns.map((variant) =>
            formatCell(
              cell(blocks, {
                model: model.key,
                variant: variant.key,
                metric: row.metric,
                reference:
                  row.metric !== "cpuPerToken" && hasReference && variant.key !== referenceKey
                    ? referenceKey
                    : undefined,
              }),
              row.digits,
            ),
          ),
        ]),
      );
    // The local build's variants get a table of their own, beside llama-server's columns.
    const prebuilt = plain.filter((variant) => variant.onEngineBuild !== true);
    const built = plain.filter((variant) => variant.onEngineBuild === true);
    const references = plain.filter((variant) => variant.key.startsWith("llama-server"));
    const main =
      built.length === 0
        ? table(prebuilt)
        : `${table(prebuilt)}\n\nAfter \`npm run engine:build\` (the local OpenMP build, same run):\n\n${table([...references, ...built])}`;
    const notes = [
      ...new Set(
        blocks
          .filter((block) => block.model === model.key && block.note !== undefined)
          .map((block) => `round ${block.round + 1}: ${block.note}`),
      ),
    ];
    const copy = options.copyWorkloads.find((workload) => workload.model === model.key);
    const copyLine =
      copy === undefined
        ? ""
        : `Copying prompt: S + P + separator + S, P = ${copy.continuation.length} characters of the model's own greedy text (${copy.isFixedPoint ? "a fixed point" : "not a fixed point"}, from ${copy.source}).\n\n`;
    const chose = notes.length === 0 ? "" : `Thread choices of the defaults: ${notes.join("; ")}.\n\n`;
    sections.push(
      `### ${model.label}\n\n${main}\n\n${chose}${copyLine}${speculationTable(blocks, model.key, { variants: options.variants, copy })}\n\n${targetTable(blocks, model.key, options.variants)}`,
    );
  }
  return sections.join("\n\n");
}

/**
 * `node --import tsx bench/engine/speculative-probe.ts [--models stories] [--tokens 128] [--rounds 3]`
 *
 * Where the time goes per token with speculation (issue #17 item 4, ADR 0049), node-llama-cpp
 * used directly as the runner drives it, 1 thread: each variant's wall and CPU time per token,
 * split into the native decode (decodeBatch call → settled), the sampling calls (first
 * sampleToken call → last settled, per step), the predictor (predictTokens + pushTokens), the
 * erase of refused drafts, and the rest (node-llama-cpp's JavaScript between). Also decodes and
 * samples per token and the draft sizes. Variants, interleaved per round:
 * - off: no predictor;
 * - paused: the runner's predictor attached under a policy paused for the whole request (what
 *   `auto` costs on free text once it stopped drafting);
 * - auto / input-lookup on the copy and free workloads;
 * - auto-count: auto with pauses counted in tokens (before ADR 0049), for a side-by-side run;
 * - auto-serial, input-lookup-serial: with the drafted positions sampled one after another;
 * - auto-count-serial: both, i.e. `auto` as it was before ADR 0049.
 * Run with `node --cpu-prof --import tsx …` for a profile. Prints a table; writes nothing.
 */
import { parseArgs } from "node:util";
import type { LlamaContext, LlamaContextSequence, Token, TokenPredictor } from "node-llama-cpp";
import { systemTime, type GenerateRequest } from "../../src/core/index.js";
import { DraftPolicy, newDraftMemory } from "../../src/engine/runner/draft-policy.js";
import { LookupTokenPredictor } from "../../src/engine/runner/lookup-predictor.js";
import { maxDraftTokens, startSpeculation } from "../../src/engine/runner/speculation.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { prepareModel, type ModelKey } from "../lib/models.js";
import { median } from "../lib/stats.js";
import { formatNumber, formatTable } from "../lib/table.js";
import { buildCopyWorkload, freeTextPrompt } from "./copy-workload.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories" },
    tokens: { type: "string", default: "128" },
    rounds: { type: "string", default: "3" },
    variants: { type: "string", default: "off,paused,auto,input-lookup" },
    workloads: { type: "string", default: "copy,free" },
  },
});
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
/** "off-other": no predictor, on the sequence the speculative variants use (is the sequence itself a factor?). */
/** "auto-count": `auto` as before ADR 0049 (pauses counted in tokens, no shadow checks), for side-by-side runs. */
/**
 * "-serial": the variant with node-llama-cpp's chained per-position samples (before the
 * parallel-draft-samples patch, ADR 0049), for a side-by-side run.
 */
type Variant =
  | "off"
  | "off-other"
  | "paused"
  | "auto"
  | "auto-count"
  | "input-lookup"
  | "auto-serial"
  | "input-lookup-serial"
  | "auto-count-serial";
const variants = values.variants.split(",") as Variant[];
const greedyRequest = { sampling: { temperature: 0 } } as GenerateRequest;
/** auto-count's per-model memory (speculation.ts keeps auto's). */
let countMemory = newDraftMemory();

/** Time accumulated per part during one generation. */
class Meter {
  decodes = 0;
  samples = 0;
  decodeMs = 0;
  sampleMs = 0;
  predictorMs = 0;
  eraseMs = 0;
  drafts: number[] = [];
  #stepFirstSample = 0;
  #stepLastDone = 0;
  #inStep = false;

  reset(): void {
    Object.assign(this, { decodes: 0, samples: 0, decodeMs: 0, sampleMs: 0, predictorMs: 0, eraseMs: 0 });
    this.drafts = [];
    this.#inStep = false;
  }

  decodeStarted(): void {
    this.#closeStep();
    this.decodes++;
  }

  sampleCalled(at: number): void {
    this.samples++;
    if (!this.#inStep) {
      this.#inStep = true;
      this.#stepFirstSample = at;
    }
  }

  sampleDone(at: number): void {
    this.#stepLastDone = Math.max(this.#stepLastDone, at);
  }

  /** Closes the current step's sampling span. */
  #closeStep(): void {
    if (this.#inStep) this.sampleMs += this.#stepLastDone - this.#stepFirstSample;
    this.#inStep = false;
  }

  finish(): void {
    this.#closeStep();
  }
}

function instrument(context: LlamaContext, meter: Meter): void {
  const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
  const now = (): number => systemTime.monotonicNow();
  internal._ctx = new Proxy(internal._ctx, {
    get(target, property) {
      const value = target[property];
      if (typeof value !== "function") return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (property === "decodeBatch")
        return () => {
          meter.decodeStarted();
          const startedAt = now();
          const result = bound() as Promise<unknown>;
          void result.then(() => (meter.decodeMs += now() - startedAt));
          return result;
        };
      if (property === "sampleToken")
        return (...args: unknown[]) => {
          meter.sampleCalled(now());
          const result = bound(...args) as Promise<unknown>;
          void result.then(() => meter.sampleDone(now()));
          return result;
        };
      return bound;
    },
  });
}

function instrumentSequence(sequence: LlamaContextSequence, meter: Meter): void {
  const internal = sequence as unknown as {
    _eraseContextTokenRanges: (...args: unknown[]) => Promise<unknown>;
  };
  const erase = internal._eraseContextTokenRanges.bind(sequence);
  internal._eraseContextTokenRanges = async (...args: unknown[]) => {
    const startedAt = systemTime.monotonicNow();
    try {
      return await erase(...args);
    } finally {
      meter.eraseMs += systemTime.monotonicNow() - startedAt;
    }
  };
}

/** Wraps the attached predictor's per-step methods to time them and record the draft sizes. */
function instrumentPredictor(predictor: TokenPredictor, meter: Meter): void {
  const target = predictor as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["predictTokens", "pushTokens"] as const) {
    const original = target[name]!.bind(predictor);
    target[name] = (...args: unknown[]) => {
      const startedAt = systemTime.monotonicNow();
      const result = original(...args);
      meter.predictorMs += systemTime.monotonicNow() - startedAt;
      if (name === "predictTokens") {
        const drafted = (result as Token[]).length;
        if (drafted > 0) meter.drafts.push(drafted);
      }
      return result;
    };
  }
}

interface Sample {
  msPerToken: number;
  cpuMsPerToken: number;
  decodesPerToken: number;
  samplesPerToken: number;
  decodeMs: number;
  sampleMs: number;
  predictorMs: number;
  eraseMs: number;
  otherMs: number;
  drafted: number;
  accepted: number;
  meanDraft: number;
  text: string;
}

async function generate(
  context: LlamaContext,
  sequence: LlamaContextSequence,
  run: { meter: Meter; prompt: Token[]; variant: Variant },
): Promise<Sample> {
  const { meter, prompt } = run;
  const isSerial = run.variant.endsWith("-serial");
  const variant = run.variant.replace(/-serial$/, "") as Variant;
  (sequence as unknown as { rawrxdSerialDraftSamples: boolean }).rawrxdSerialDraftSamples = isSerial;
  await sequence.clearHistory();
  const internal = sequence as unknown as { _tokenPredictor: TokenPredictor | undefined };
  let finish: (() => Promise<{ draftedTokens: number; acceptedTokens: number } | undefined>) | undefined;
  if (variant === "paused" || variant === "auto-count") {
    const validatedAtStart = sequence.tokenPredictions.validated;
    const usedAtStart = sequence.tokenPredictions.used;
    const policy = new DraftPolicy({
      maxDraft: maxDraftTokens,
      adaptive: true,
      validatedAtStart,
      now: () => systemTime.monotonicNow(),
      memory:
        variant === "paused" ? { pausedFor: 1_000_000, nextPause: 1024, requiredStreak: 48 } : countMemory,
    });
    const predictor = new LookupTokenPredictor();
    predictor.begin(policy);
    internal._tokenPredictor = predictor;
    finish = async () => {
      await (sequence as unknown as { _abortTokenPredictor: () => Promise<void> })._abortTokenPredictor();
      internal._tokenPredictor = undefined;
      predictor.dispose();
      policy.save();
      return {
        draftedTokens: policy.counts.drafted,
        acceptedTokens: sequence.tokenPredictions.used - usedAtStart,
      };
    };
  } else if (variant !== "off" && variant !== "off-other") {
    const speculation = startSpeculation({
      mode: variant as "auto" | "input-lookup",
      sequence,
      request: greedyRequest,
      grammar: undefined,
    });
    finish = () => speculation.finish();
  }
  if (internal._tokenPredictor !== undefined) instrumentPredictor(internal._tokenPredictor, meter);
  // Prompt evaluation is not what is measured: decode it first without sampling.
  await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
  meter.reset();
  const out: Token[] = [];
  const cpuBefore = process.cpuUsage();
  const startedAt = systemTime.monotonicNow();
  for await (const token of sequence.evaluate(prompt.slice(-1), { temperature: 0, yieldEogToken: true })) {
    out.push(token);
    if (out.length >= tokens) break;
  }
  const wallMs = systemTime.monotonicNow() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  meter.finish();
  const counts = await finish?.();
  const n = out.length;
  return {
    msPerToken: wallMs / n,
    cpuMsPerToken: (cpu.user + cpu.system) / 1000 / n,
    decodesPerToken: meter.decodes / n,
    samplesPerToken: meter.samples / n,
    decodeMs: meter.decodeMs / n,
    sampleMs: meter.sampleMs / n,
    predictorMs: meter.predictorMs / n,
    eraseMs: meter.eraseMs / n,
    otherMs: (wallMs - meter.decodeMs - meter.sampleMs - meter.predictorMs - meter.eraseMs) / n,
    drafted: counts?.draftedTokens ?? 0,
    accepted: counts?.acceptedTokens ?? 0,
    meanDraft: meter.drafts.length === 0 ? 0 : meter.drafts.reduce((a, b) => a + b, 0) / meter.drafts.length,
    text: context.model.detokenize(out),
  };
}

const table: string[][] = [];
for (const key of values.models.split(",") as ModelKey[]) {
  const model = await prepareModel(key);
  const { llama, context } = await openDirectContext({
    modelPath: model.path,
    threads: 1,
    contextSize: 2048,
    sequences: 2,
  });
  try {
    countMemory = newDraftMemory();
    const meter = new Meter();
    instrument(context, meter);
    const plain = context.getSequence();
    const speculative = context.getSequence();
    instrumentSequence(speculative, meter);
    const copy = await buildCopyWorkload(
      async (prompt) =>
        (await generate(context, plain, { meter, prompt: context.model.tokenize(prompt), variant: "off" }))
          .text,
      { maxTokens: tokens },
    );
    const workloads: Record<string, string> = { copy: copy.prompt, free: freeTextPrompt };
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < rounds; round++)
      for (const workload of values.workloads.split(",")) {
        const prompt = context.model.tokenize(workloads[workload]!);
        const order = round % 2 === 0 ? variants : [...variants].reverse();
        for (const variant of order) {
          const sample = await generate(context, variant === "off" ? plain : speculative, {
            meter,
            prompt,
            variant,
          });
          const id = `${workload}\u0000${variant}`;
          samples.set(id, [...(samples.get(id) ?? []), sample]);
        }
      }
    for (const [id, list] of samples) {
      const [workload, variant] = id.split("\u0000") as [string, Variant];
      const off = samples.get(`${workload}\u0000off`)!;
      const ratio = median(list.map((sample, index) => off[index]!.msPerToken / sample.msPerToken));
      const cpuRatio = median(list.map((sample, index) => off[index]!.cpuMsPerToken / sample.cpuMsPerToken));
      const m = (pick: (sample: Sample) => number, digits = 3): string =>
        formatNumber(median(list.map(pick)), digits);
      const drafted = list.reduce((sum, sample) => sum + sample.drafted, 0);
      const accepted = list.reduce((sum, sample) => sum + sample.accepted, 0);
      table.push([
        model.label,
        workload,
        variant,
        m((s) => s.msPerToken),
        formatNumber(ratio, 2),
        formatNumber(cpuRatio, 2),
        m((s) => s.decodesPerToken, 2),
        m((s) => s.samplesPerToken, 2),
        m((s) => s.decodeMs),
        m((s) => s.sampleMs),
        m((s) => s.predictorMs, 4),
        m((s) => s.eraseMs),
        m((s) => s.otherMs),
        drafted === 0 ? "–" : `${accepted}/${drafted}`,
        m((s) => s.meanDraft, 1),
        list.every((sample, index) => sample.text === off[index]!.text) ? "yes" : "NO",
      ]);
    }
  } finally {
    await llama.dispose();
  }
}
console.log(
  formatTable(
    [
      "model",
      "workload",
      "variant",
      "ms/token",
      "× off",
      "CPU × off",
      "decodes/tok",
      "samples/tok",
      "decode ms/tok",
      "sampling ms/tok",
      "predictor ms/tok",
      "erase ms/tok",
      "other ms/tok",
      "accepted/drafted",
      "mean draft",
      "same text",
    ],
    table,
  ),
);

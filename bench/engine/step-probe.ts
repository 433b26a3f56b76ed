/**
 * Stamps the addon calls of one context (ADR 0044): each step's `initBatch` (the batch is being
 * built), `decodeBatch` (llama_decode on a libuv worker) and `sampleToken` (one per sequence,
 * each on a libuv worker), so a run splits its wall time per step into building the batch,
 * the native decode, the samples and the JavaScript between the last sample and the next batch.
 * The addon object is frozen: a proxy replaces `context._ctx` (benchmarks only; see ADR 0034 for
 * why the runner cannot do this).
 */
import type { LlamaContext } from "node-llama-cpp";
import { systemTime } from "../../src/core/index.js";
import { median } from "../lib/stats.js";

interface Step {
  initAt: number;
  decodeCallAt: number;
  decodeDoneAt: number;
  samples: { calledAt: number; doneAt: number }[];
}

export interface StepSplit {
  steps: number;
  /** Median ms per step, from one initBatch to the next. */
  stepMs: number;
  /** initBatch → decodeBatch call (addToBatch, JS). */
  buildMs: number;
  /** decodeBatch call → its promise settled on the main thread. */
  decodeMs: number;
  /** Decode settled → first sampleToken call. */
  toFirstSampleMs: number;
  /** First sampleToken call → last sample settled. */
  samplesMs: number;
  /** One sampleToken call → settled (median over all calls). */
  sampleCallMs: number;
  /** Last sample settled → next initBatch. */
  toNextBatchMs: number;
}

export class StepProbe {
  readonly #steps: Step[] = [];
  #from = 0;

  constructor(context: LlamaContext) {
    const internal = context as unknown as { _ctx: Record<string | symbol, unknown> };
    const steps = this.#steps;
    internal._ctx = new Proxy(internal._ctx, {
      get(target, property) {
        const value = target[property];
        if (typeof value !== "function") return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        if (property === "initBatch")
          return (...args: unknown[]) => {
            steps.push({ initAt: systemTime.monotonicNow(), decodeCallAt: 0, decodeDoneAt: 0, samples: [] });
            return bound(...args);
          };
        if (property === "decodeBatch")
          return (...args: unknown[]) => {
            const step = steps.at(-1);
            if (step !== undefined) step.decodeCallAt = systemTime.monotonicNow();
            const result = bound(...args) as Promise<unknown>;
            void result.then(
              () => {
                if (step !== undefined) step.decodeDoneAt = systemTime.monotonicNow();
              },
              () => undefined,
            );
            return result;
          };
        if (property === "sampleToken")
          return (...args: unknown[]) => {
            const sample = { calledAt: systemTime.monotonicNow(), doneAt: 0 };
            steps.at(-1)?.samples.push(sample);
            const result = bound(...args) as Promise<unknown>;
            void result.then(
              () => {
                sample.doneAt = systemTime.monotonicNow();
              },
              () => undefined,
            );
            return result;
          };
        return bound;
      },
    });
  }

  /** llama_decode calls so far. */
  get decodes(): number {
    return this.#steps.length;
  }

  /** Starts a new measurement window. */
  mark(): void {
    this.#from = this.#steps.length;
  }

  /** The split of the steps since mark() that decoded `size` sequences' single tokens. */
  split(size: number): StepSplit {
    const window = this.#steps.slice(this.#from);
    const rows = {
      step: [] as number[],
      build: [] as number[],
      decode: [] as number[],
      toFirst: [] as number[],
      samples: [] as number[],
      call: [] as number[],
      toNext: [] as number[],
    };
    for (let index = 0; index + 1 < window.length; index++) {
      const step = window[index]!;
      const next = window[index + 1]!;
      if (step.samples.length !== size || step.decodeDoneAt === 0) continue;
      const firstCall = Math.min(...step.samples.map((sample) => sample.calledAt));
      const lastDone = Math.max(...step.samples.map((sample) => sample.doneAt));
      rows.step.push(next.initAt - step.initAt);
      rows.build.push(step.decodeCallAt - step.initAt);
      rows.decode.push(step.decodeDoneAt - step.decodeCallAt);
      rows.toFirst.push(firstCall - step.decodeDoneAt);
      rows.samples.push(lastDone - firstCall);
      rows.toNext.push(next.initAt - lastDone);
      for (const sample of step.samples) rows.call.push(sample.doneAt - sample.calledAt);
    }
    const at = (name: keyof typeof rows): number =>
      rows[name].length === 0 ? Number.NaN : median(rows[name]);
    return {
      steps: rows.step.length,
      stepMs: at("step"),
      buildMs: at("build"),
      decodeMs: at("decode"),
      toFirstSampleMs: at("toFirst"),
      samplesMs: at("samples"),
      sampleCallMs: at("call"),
      toNextBatchMs: at("toNext"),
    };
  }
}

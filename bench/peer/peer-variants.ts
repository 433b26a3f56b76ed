/**
 * What the peer benchmark compares: each variant opens a fresh engine for one block and says
 * which workloads it runs there. llama-server (defaults) is the reference the ratios are taken to;
 * a speculative variant names the baseline it is paired with (the same server without it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { BenchModel } from "../lib/models.js";
import { ServerProcess } from "../lib/server-process.js";
import { LlamaServer } from "./llama-server.js";
import { freePrompt } from "./peer-block.js";
import { directEngine, httpEngine, type PeerEngine } from "./peer-engines.js";
import type { Workload } from "./peer-report.js";
import { defaultHome, settleThreadChoice } from "./rawrxd-default.js";

export interface OpenedVariant {
  engine: PeerEngine;
  stop(): Promise<void>;
  /** What the block should report about this start (the thread count `auto` chose). */
  note?: string;
}

export interface Variant {
  key: string;
  label: string;
  workloads: readonly Workload[];
  /** The variant this one is paired with for its speedup and same-greedy-text counts (speculation). */
  baseline?: string;
  open(model: BenchModel): Promise<OpenedVariant>;
}

export const referenceKey = "llama-server";
/** RawrXD as a new user runs it: the "defaults both" rows. */
export const defaultKey = "rawrxd-default";
/** llama-server's -c and -np as the comparison ran it; node-llama-cpp direct gets the same. */
const contextSize = 8192;
const sequences = 4;

interface RawrxdSpec {
  key: string;
  label: string;
  flags: readonly string[];
  workloads: readonly Workload[];
  baseline?: string;
  /** The default variant: the run's one RAWRXD_HOME (kept between blocks) and the thread calibration. */
  isDefault?: boolean;
}

function rawrxd(spec: RawrxdSpec): Variant {
  return {
    key: spec.key,
    label: spec.label,
    workloads: spec.workloads,
    ...(spec.baseline === undefined ? {} : { baseline: spec.baseline }),
    async open(model) {
      const home = spec.isDefault === true ? defaultHome() : await mkdtemp(join(tmpdir(), "rawrxd-peer-"));
      const dropHome = (): Promise<void> =>
        spec.isDefault === true ? Promise.resolve() : rm(home, { recursive: true, force: true });
      const server = await ServerProcess.start({
        home,
        modelsDirectory: dirname(model.path),
        flags: [...spec.flags, "--no-demo-model"],
        startTimeoutMs: 60_000,
      }).catch(async (error: unknown) => {
        await dropHome();
        throw error;
      });
      const engine = httpEngine({ url: server.url, model: basename(model.path, ".gguf"), pid: server.pid });
      const stop = async (): Promise<void> => {
        await engine.close();
        await server.stop(30_000);
        await dropHome();
      };
      if (spec.isDefault !== true) return { engine, stop };
      try {
        const note = await settleThreadChoice(engine, {
          modelPath: model.path,
          prompt: (index) => freePrompt(70, `calibrate-${index}`),
          logTail: () => server.logTail,
        });
        return { engine, stop, note: `--threads auto: ${note}` };
      } catch (error) {
        await stop();
        throw error;
      }
    },
  };
}

function rawrxdThreads(threads: number): Variant {
  return rawrxd({
    key: `rawrxd-t${threads}`,
    label: `RawrXD --threads ${threads}`,
    flags: ["--threads", String(threads)],
    workloads: ["single", "four", "copy"],
  });
}

/** RawrXD with speculative decoding `mode`, paired with RawrXD at the same threads without it. */
function rawrxdSpeculative(mode: "input-lookup" | "auto", threads: number): Variant {
  return rawrxd({
    key: `rawrxd-spec-${mode}`,
    label: `RawrXD --speculative ${mode} --threads ${threads}`,
    flags: ["--speculative", mode, "--threads", String(threads)],
    workloads: ["single", "copy"],
    baseline: `rawrxd-t${threads}`,
  });
}

function direct(threads: number): Variant {
  return {
    key: `direct-t${threads}`,
    label: `node-llama-cpp direct, ${threads} thread${threads === 1 ? "" : "s"}`,
    workloads: ["single", "four"],
    async open(model) {
      const engine = await directEngine({ modelPath: model.path, threads, contextSize, sequences });
      return { engine, stop: () => engine.close() };
    },
  };
}

function llamaServer(
  key: string,
  label: string,
  extra: { flags: string[]; workloads: Workload[]; baseline?: string },
): Variant {
  return {
    key,
    label,
    workloads: extra.workloads,
    ...(extra.baseline === undefined ? {} : { baseline: extra.baseline }),
    async open(model) {
      const server = await LlamaServer.start(model.path, [
        ...["-c", String(contextSize), "-np", String(sequences)],
        ...extra.flags,
      ]);
      const engine = httpEngine({
        url: server.url,
        model: basename(model.path, ".gguf"),
        pid: server.pid,
        keepAlive: false, // a new loopback connection per request: ~0.1 ms, inside TTFT's noise
        draftsWhenReported: extra.flags.includes("--spec-type"),
      });
      return {
        engine,
        async stop() {
          await engine.close();
          await server.stop();
        },
      };
    },
  };
}

export function peerVariants(available: {
  hasLlamaServer: boolean;
  hasNgram: boolean;
  /** --threads of the RawrXD speculative variants (their baseline is rawrxd-tN). */
  speculativeThreads: 1 | 2;
}): Variant[] {
  return [
    ...(available.hasLlamaServer
      ? [
          llamaServer(referenceKey, "llama-server (defaults)", {
            flags: [],
            workloads: ["single", "four", "copy"],
          }),
          llamaServer("llama-server-t1", "llama-server -t 1", { flags: ["-t", "1"], workloads: ["single"] }),
        ]
      : []),
    ...(available.hasNgram
      ? [
          llamaServer("llama-server-spec", "llama-server --spec-type ngram-simple", {
            flags: ["--spec-type", "ngram-simple"],
            workloads: ["single", "copy"],
            baseline: referenceKey,
          }),
        ]
      : []),
    rawrxd({
      key: defaultKey,
      label: "RawrXD (defaults)",
      flags: [],
      workloads: ["single", "four", "copy"],
      isDefault: true,
    }),
    rawrxdThreads(1),
    rawrxdThreads(2),
    rawrxdSpeculative("input-lookup", available.speculativeThreads),
    rawrxdSpeculative("auto", available.speculativeThreads),
    direct(1),
    direct(2),
  ];
}

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
  /** Runs on the local OpenMP build of `npm run engine:build` (its own table). */
  onEngineBuild?: boolean;
  open(model: BenchModel): Promise<OpenedVariant>;
}

export const referenceKey = "llama-server";
/** RawrXD as a new user runs it: the "defaults both" rows. */
export const defaultKey = "rawrxd-default";
/** RawrXD as a user runs it after the one extra command, `npm run engine:build`. */
export const buildDefaultKey = "rawrxd-build-default";
/** llama-server's -c and -np as the comparison ran it; node-llama-cpp direct gets the same. */
const contextSize = 8192;
const sequences = 4;

interface RawrxdSpec {
  key: string;
  label: string;
  flags: readonly string[];
  workloads: readonly Workload[];
  baseline?: string;
  /** A default variant: its own RAWRXD_HOME for the run (kept between blocks) and the thread calibration. */
  isDefault?: boolean;
  onEngineBuild?: boolean;
}

function rawrxd(spec: RawrxdSpec): Variant {
  return {
    key: spec.key,
    label: spec.label,
    workloads: spec.workloads,
    ...(spec.baseline === undefined ? {} : { baseline: spec.baseline }),
    ...(spec.onEngineBuild === true ? { onEngineBuild: true } : {}),
    async open(model) {
      const home =
        spec.isDefault === true ? defaultHome(spec.key) : await mkdtemp(join(tmpdir(), "rawrxd-peer-"));
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
          home,
          modelPath: model.path,
          prompt: (index) => freePrompt(70, `calibrate-${index}`),
          logTail: () => server.logTail,
        });
        return { engine, stop, note: `${spec.label}, --threads auto: ${note}` };
      } catch (error) {
        await stop();
        throw error;
      }
    },
  };
}

/**
 * Where the machine has the local build, the prebuilt variants ask for the prebuilt binary by
 * flag: what a fresh `npm ci` gives, so "defaults" still means a new user's defaults.
 */
function buildFlags(onEngineBuild: boolean, hasEngineBuild: boolean): string[] {
  if (onEngineBuild) return ["--engine-build", "openmp"];
  return hasEngineBuild ? ["--engine-build", "prebuilt"] : [];
}

/** The engine at a fixed thread count, without speculation (the default `auto` would draft): the plain rows and the speculative variants' baseline. */
function rawrxdThreads(threads: number, build: { on: boolean; has: boolean }): Variant {
  return rawrxd({
    key: build.on ? `rawrxd-build-t${threads}` : `rawrxd-t${threads}`,
    label: build.on
      ? `RawrXD engine:build --threads ${threads} --speculative off`
      : `RawrXD --threads ${threads} --speculative off`,
    flags: [...buildFlags(build.on, build.has), "--threads", String(threads), "--speculative", "off"],
    workloads: ["single", "four", "copy"],
    onEngineBuild: build.on,
  });
}

/** RawrXD with speculative decoding `mode`, paired with RawrXD at the same threads without it. */
function rawrxdSpeculative(
  mode: "input-lookup" | "auto",
  threads: number,
  build: { on: boolean; has: boolean },
): Variant {
  return rawrxd({
    key: build.on ? `rawrxd-build-spec-${mode}` : `rawrxd-spec-${mode}`,
    label: `RawrXD${build.on ? " engine:build" : ""} --speculative ${mode} --threads ${threads}`,
    flags: [...buildFlags(build.on, build.has), "--speculative", mode, "--threads", String(threads)],
    workloads: ["single", "copy"],
    baseline: build.on ? `rawrxd-build-t${threads}` : `rawrxd-t${threads}`,
    onEngineBuild: build.on,
  });
}

function direct(threads: number, onEngineBuild = false): Variant {
  const plural = threads === 1 ? "" : "s";
  return {
    key: onEngineBuild ? `direct-build-t${threads}` : `direct-t${threads}`,
    label: onEngineBuild
      ? `node-llama-cpp direct on engine:build, ${threads} thread${plural}`
      : `node-llama-cpp direct, ${threads} thread${plural}`,
    workloads: ["single", "four"],
    ...(onEngineBuild ? { onEngineBuild: true } : {}),
    async open(model) {
      const engine = await directEngine({
        modelPath: model.path,
        threads,
        contextSize,
        sequences,
        build: onEngineBuild ? "openmp" : "prebuilt",
      });
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
  /** The local OpenMP build of `npm run engine:build` runs its variants too (not --no-engine-build). */
  hasEngineBuild: boolean;
  /**
   * The local build is on this machine, run or not: the prebuilt variants then pin the prebuilt
   * binary, which `--engine-build auto` would pass over.
   */
  isBuildHere: boolean;
}): Variant[] {
  const has = available.isBuildHere;
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
      flags: buildFlags(false, has),
      workloads: ["single", "four", "copy"],
      isDefault: true,
    }),
    rawrxdThreads(1, { on: false, has }),
    rawrxdThreads(2, { on: false, has }),
    // What RawrXD did before ADR 0057 (llama.cpp's flash attention for every model), beside rawrxd-t1.
    rawrxd({
      key: "rawrxd-t1-flash-on",
      label: "RawrXD --threads 1 --speculative off --flash-attention on",
      flags: [...buildFlags(false, has), "--threads", "1", "--speculative", "off", "--flash-attention", "on"],
      workloads: ["single", "four", "copy"],
    }),
    rawrxdSpeculative("input-lookup", available.speculativeThreads, { on: false, has }),
    rawrxdSpeculative("auto", available.speculativeThreads, { on: false, has }),
    direct(1),
    direct(2),
    ...(available.hasEngineBuild
      ? [
          rawrxd({
            key: buildDefaultKey,
            label: "RawrXD (defaults + engine:build)",
            flags: [],
            workloads: ["single", "four", "copy"],
            isDefault: true,
            onEngineBuild: true,
          }),
          rawrxdThreads(1, { on: true, has }),
          rawrxdThreads(2, { on: true, has }),
          rawrxdSpeculative("auto", available.speculativeThreads, { on: true, has }),
          direct(1, true),
          direct(2, true),
        ]
      : []),
  ];
}

/**
 * Variants a run takes only when `--variants` names them: RawrXD at a fixed thread count with
 * `--stream-socket-lending off` (ADR 0056), beside `rawrxd-tN`; and with `--speculative auto`
 * or `input-lookup` on every workload, four streams included (`rawrxd-tN-auto`,
 * `rawrxd-tN-lookup`: drafting beside other generations, ADR 0062).
 */
export function extraPeerVariants(available: { isBuildHere: boolean }): Variant[] {
  const build = buildFlags(false, available.isBuildHere);
  const noLending = [1, 2].map((threads) =>
    rawrxd({
      key: `rawrxd-t${threads}-no-lending`,
      label: `RawrXD --threads ${threads} --speculative off --stream-socket-lending off`,
      flags: [
        ...build,
        ...["--threads", String(threads), "--speculative", "off", "--stream-socket-lending", "off"],
      ],
      workloads: ["single", "four", "copy"],
    }),
  );
  const speculating = [1, 2].flatMap((threads) =>
    (["auto", "input-lookup"] as const).map((mode) =>
      rawrxd({
        key: `rawrxd-t${threads}-${mode === "auto" ? "auto" : "lookup"}`,
        label: `RawrXD --threads ${threads} --speculative ${mode}`,
        flags: [...build, "--threads", String(threads), "--speculative", mode],
        workloads: ["single", "four", "copy"],
      }),
    ),
  );
  return [...noLending, ...speculating];
}

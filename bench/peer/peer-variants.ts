/**
 * What the peer benchmark compares: each variant opens a fresh engine for one block and says
 * which workloads it runs there. llama-server (defaults) is the reference the ratios are taken to.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { BenchModel } from "../lib/models.js";
import { ServerProcess } from "../lib/server-process.js";
import { LlamaServer } from "./llama-server.js";
import { directEngine, httpEngine, type PeerEngine } from "./peer-engines.js";
import type { Workload } from "./peer-report.js";

export interface OpenedVariant {
  engine: PeerEngine;
  stop(): Promise<void>;
}

export interface Variant {
  key: string;
  label: string;
  workloads: readonly Workload[];
  open(model: BenchModel): Promise<OpenedVariant>;
}

export const referenceKey = "llama-server";
/** llama-server's -c and -np as the comparison ran it; node-llama-cpp direct gets the same. */
const contextSize = 8192;
const sequences = 4;

function rawrxd(threads: number): Variant {
  return {
    key: `rawrxd-t${threads}`,
    label: `RawrXD --threads ${threads}`,
    workloads: ["single", "four", "copy"],
    async open(model) {
      const home = await mkdtemp(join(tmpdir(), "rawrxd-peer-"));
      const server = await ServerProcess.start({
        home,
        modelsDirectory: dirname(model.path),
        flags: ["--threads", String(threads), "--no-demo-model"],
        startTimeoutMs: 60_000,
      }).catch(async (error: unknown) => {
        await rm(home, { recursive: true, force: true });
        throw error;
      });
      const engine = httpEngine({ url: server.url, model: basename(model.path, ".gguf"), pid: server.pid });
      return {
        engine,
        async stop() {
          await engine.close();
          await server.stop(30_000);
          await rm(home, { recursive: true, force: true });
        },
      };
    },
  };
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

function llamaServer(key: string, label: string, extra: { flags: string[]; workloads: Workload[] }): Variant {
  return {
    key,
    label,
    workloads: extra.workloads,
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

export function peerVariants(available: { hasLlamaServer: boolean; hasNgram: boolean }): Variant[] {
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
          }),
        ]
      : []),
    rawrxd(1),
    rawrxd(2),
    direct(1),
    direct(2),
  ];
}

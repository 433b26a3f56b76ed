/**
 * The peer benchmark's saved-KV rows, measured with bench/kv-state's pieces (kv-measure.ts):
 * the first request on a fixed long system prompt after a restart, RawrXD with and without
 * `--prompt-cache DIR` and llama-server (defaults, no cache) beside them; and tokens evaluated
 * again on resume after preemption. RawrXD runs here as kv-state runs it (threads 1, parallel 1).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  measurePreemption,
  measureRestart,
  systemPromptOf,
  systemPromptRequest,
  type PreemptionResult,
  type RestartResult,
} from "../kv-state/kv-measure.js";
import type { BenchModel } from "../lib/models.js";
import { median } from "../lib/stats.js";
import { httpEngine } from "./peer-engines.js";
import { LlamaServer } from "./llama-server.js";

export interface KvRows {
  model: string;
  systemWords: number;
  restart: RestartResult;
  /** llama-server at its defaults, restarted, first request on the same prompt: TTFT ms (median); NaN without it. */
  llamaServerTtftMs: number;
  preemption: PreemptionResult;
}

async function llamaServerFirstRequest(model: BenchModel, prompt: string, reps: number): Promise<number> {
  const values: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const server = await LlamaServer.start(model.path, ["-c", "8192", "-np", "4"]);
    const engine = httpEngine({
      url: server.url,
      model: basename(model.path, ".gguf"),
      pid: server.pid,
      keepAlive: false,
    });
    try {
      await engine.generate("Hello", 2);
      values.push((await engine.generate(prompt, 16)).timeToFirstTokenMs);
    } finally {
      await engine.close();
      await server.stop();
    }
  }
  return median(values);
}

export async function measureKvRows(plan: {
  model: BenchModel;
  systemWords: number;
  reps: number;
  preemptions: number;
  hasLlamaServer: boolean;
  log: (line: string) => void;
}): Promise<KvRows> {
  const root = mkdtempSync(join(tmpdir(), "rawrxd-peer-kv-"));
  try {
    const base = { model: plan.model, root, log: plan.log };
    const restart = await measureRestart({ ...base, systemWords: plan.systemWords, reps: plan.reps });
    const prompt = systemPromptRequest(systemPromptOf(plan.systemWords), "What is note 2?");
    const llamaServerTtftMs = plan.hasLlamaServer
      ? await llamaServerFirstRequest(plan.model, prompt, plan.reps)
      : Number.NaN;
    const preemption = await measurePreemption({ ...base, reps: plan.reps, preemptions: plan.preemptions });
    return { model: plan.model.label, systemWords: plan.systemWords, restart, llamaServerTtftMs, preemption };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The child of `npm run bench:other-binding`: one engine used directly (no server), one sequence,
 * greedy decoding of `--tokens` tokens after a short prompt, at `--threads`, twice after a
 * warm-up. `--engine node-llama-cpp` is the pinned prebuilt binary as the runner opens it;
 * `--engine llama.node` is @fugood/llama.node from `--install` (its whole token loop is native).
 * Each engine runs in a process of its own, so two copies of ggml never share one. Prints one
 * JSON line: the median decode rate (first token to last), the tokens decoded and the ggml CPU
 * backend library the process loaded (node-llama-cpp's per-CPU variant).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDirectContext } from "../lib/direct-engine.js";
import { median } from "../lib/stats.js";

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "node-llama-cpp" },
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    tokens: { type: "string", default: "256" },
    install: { type: "string" },
  },
});
if (values.model === undefined) throw new Error("--model PATH is required.");
const modelPath = values.model;
const threads = Number(values.threads);
const maxTokens = Number(values.tokens);
// RawrXD's choice for these models (ADR 0057): off for stories260K's 8-wide heads.
const flashAttentionOff = modelPath.includes("stories");
const prompt = "the old farmer walked slowly down the dusty road toward the quiet village";

/** Decodes `tokens` greedy tokens; returns the rate from the first token to the last. */
type Generate = (tokens: number) => Promise<{ tokens: number; decodeTokensPerSecond: number }>;

function rateOf(
  tokens: number,
  firstAt: bigint,
  endAt: bigint,
): { tokens: number; decodeTokensPerSecond: number } {
  return { tokens, decodeTokensPerSecond: (tokens - 1) / (Number(endAt - firstAt) / 1e9) };
}

async function nodeLlamaCpp(): Promise<{ generate: Generate; dispose: () => Promise<void> }> {
  const { llama, context } = await openDirectContext({
    modelPath,
    threads,
    contextSize: 2048,
    sequences: 1,
    flashAttention: flashAttentionOff ? false : "auto",
  });
  const model = context.model;
  const input = [...(model.tokens.bos === null ? [] : [model.tokens.bos]), ...model.tokenize(prompt)];
  return {
    generate: async (wanted) => {
      const sequence = context.getSequence();
      let tokens = 0;
      let firstAt = 0n;
      for await (const token of sequence.evaluate(input, { temperature: 0 })) {
        void token;
        if (tokens === 0) firstAt = process.hrtime.bigint();
        if (++tokens >= wanted) break;
      }
      const endAt = process.hrtime.bigint();
      await sequence.dispose();
      return rateOf(tokens, firstAt, endAt);
    },
    dispose: () => llama.dispose(),
  };
}

interface LlamaNodeContext {
  completion(
    options: { prompt: string; n_predict: number; temperature: number; ignore_eos: boolean },
    onToken: () => void,
  ): Promise<unknown>;
  release(): Promise<void>;
}

async function llamaNode(install: string): Promise<{ generate: Generate; dispose: () => Promise<void> }> {
  const entry = join(install, "node_modules", "@fugood", "llama.node", "lib", "index.js");
  // Required as CommonJS: under tsx an import() of lib/index.js resolves to the package's own
  // TypeScript source, whose import() of the .node binary fails.
  const binding = createRequire(entry)(entry) as {
    loadModel: (options: Record<string, unknown>) => Promise<LlamaNodeContext>;
  };
  const context = await binding.loadModel({
    model: modelPath,
    n_ctx: 2048,
    n_parallel: 1,
    n_threads: threads,
    n_gpu_layers: 0,
    flash_attn_type: flashAttentionOff ? "off" : "auto",
  });
  return {
    generate: async (wanted) => {
      let tokens = 0;
      let firstAt = 0n;
      await context.completion({ prompt, n_predict: wanted, temperature: 0, ignore_eos: true }, () => {
        if (tokens === 0) firstAt = process.hrtime.bigint();
        tokens += 1;
      });
      return rateOf(tokens, firstAt, process.hrtime.bigint());
    },
    dispose: () => context.release(),
  };
}

/** The ggml CPU backend library this process mapped (node-llama-cpp picks one per CPU), if any. */
function loadedCpuBackend(): string | undefined {
  const maps = readFileSync("/proc/self/maps", "utf8");
  return /\s(\/\S*libggml-cpu-[^/\s]*\.so)$/m.exec(maps)?.[1];
}

if (values.engine !== "node-llama-cpp" && values.engine !== "llama.node")
  throw new Error(`--engine takes node-llama-cpp or llama.node, got "${values.engine}".`);
if (values.engine === "llama.node" && values.install === undefined)
  throw new Error("--engine llama.node needs --install DIR (where bench:other-binding installed it).");
const engine = values.engine === "llama.node" ? await llamaNode(values.install!) : await nodeLlamaCpp();
try {
  await engine.generate(16);
  const runs = [await engine.generate(maxTokens), await engine.generate(maxTokens)];
  process.stdout.write(
    JSON.stringify({
      tokens: runs.reduce((sum, run) => sum + run.tokens, 0),
      decodeTokensPerSecond: median(runs.map((run) => run.decodeTokensPerSecond)),
      cpuBackend: loadedCpuBackend(),
    }) + "\n",
  );
} finally {
  await engine.dispose();
}

/**
 * `npm run bench:omp-wait -- [--models 134m,stories] [--rounds 3] [--tokens 128] [--threads 2]`
 *
 * The local OpenMP build (`npm run engine:build`) parks ggml's helper thread between decodes by
 * libgomp's wait policy: by default it spins (GOMP_SPINCOUNT 300,000) before it sleeps. In a
 * RawrXD runner the gap between two decodes holds the runner's JavaScript (sampling, IPC) and the
 * main process's write, which need a core the spinning thread holds. This puts RawrXD on the
 * OpenMP build side by side under three policies, in interleaved rounds, each block a fresh
 * server: libgomp's default, OMP_WAIT_POLICY=passive (sleep at once), GOMP_SPINCOUNT=10000.
 * Single stream decode tok/s and 4-stream aggregate; medians and the ratio to the default.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { hasOpenmpBuild } from "../../src/engine/index.js";
import { prepareModel, type ModelKey } from "../lib/models.js";
import { ServerProcess } from "../lib/server-process.js";
import { median } from "../lib/stats.js";
import { freePrompt } from "../peer/peer-block.js";
import { httpEngine } from "../peer/peer-engines.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "134m,stories" },
    rounds: { type: "string", default: "3" },
    tokens: { type: "string", default: "128" },
    threads: { type: "string", default: "2" },
  },
});
if (!hasOpenmpBuild()) throw new Error("No local OpenMP build here: run `npm run engine:build` first.");
const policies: { key: string; env: Record<string, string> }[] = [
  { key: "default", env: {} },
  { key: "passive", env: { OMP_WAIT_POLICY: "passive" } },
  { key: "spin-10k", env: { GOMP_SPINCOUNT: "10000" } },
];
const maxTokens = Number(values.tokens);
const lines: string[] = [];
for (const key of values.models.split(",") as ModelKey[]) {
  const model = await prepareModel(key);
  const results = new Map<string, { single: number[]; four: number[] }>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (let index = 0; index < policies.length; index++) {
      const policy = policies[(index + round) % policies.length]!;
      const saved = { ...process.env };
      Object.assign(process.env, policy.env);
      const home = await mkdtemp(join(tmpdir(), "rawrxd-omp-"));
      const server = await ServerProcess.start({
        home,
        modelsDirectory: dirname(model.path),
        flags: ["--engine-build", "openmp", "--threads", values.threads, "--no-demo-model"],
        startTimeoutMs: 60_000,
      });
      for (const name of Object.keys(policy.env)) if (saved[name] === undefined) delete process.env[name];
      const engine = httpEngine({ url: server.url, model: basename(model.path, ".gguf"), pid: server.pid });
      try {
        await engine.generate(freePrompt(70, "warm"), 16);
        const entry = results.get(policy.key) ?? { single: [], four: [] };
        for (let rep = 0; rep < 3; rep++)
          entry.single.push(
            (await engine.generate(freePrompt(70, `${round}-${rep}`), maxTokens)).decodeTokensPerSecond,
          );
        const streams = await Promise.all(
          [0, 1, 2, 3].map((stream) => engine.generate(freePrompt(70, `${round}-f-${stream}`), maxTokens)),
        );
        const first = Math.min(...streams.map((s) => s.firstTokenAt));
        const last = Math.max(...streams.map((s) => s.lastTokenAt));
        entry.four.push((streams.reduce((sum, s) => sum + s.tokens - 1, 0) * 1000) / (last - first));
        results.set(policy.key, entry);
        process.stderr.write(
          `${model.label} round ${round + 1} ${policy.key}: ${entry.single
            .slice(-3)
            .map((v) => v.toFixed(0))
            .join(" ")} / ${entry.four.at(-1)!.toFixed(0)}\n`,
        );
      } finally {
        await engine.close();
        await server.stop(30_000);
        await rm(home, { recursive: true, force: true });
      }
    }
  }
  const base = results.get("default")!;
  for (const policy of policies) {
    const entry = results.get(policy.key)!;
    const single = median(entry.single);
    const four = median(entry.four);
    lines.push(
      `| ${model.label} | ${policy.key} | ${single.toFixed(1)} (${(single / median(base.single)).toFixed(2)}×) | ${four.toFixed(1)} (${(four / median(base.four)).toFixed(2)}×) |`,
    );
  }
}
console.log(
  `| model | libgomp wait | 1 stream decode tok/s | 4-stream aggregate tok/s |\n| --- | --- | --- | --- |\n${lines.join("\n")}`,
);

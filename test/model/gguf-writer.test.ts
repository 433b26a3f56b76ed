// Synthetic models from src/gguf load and generate in the real engine (node-llama-cpp, 1 thread).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readGgufHeader,
  syntheticModelShapes,
  writeLlamaModel,
  type LlamaModelShape,
} from "../../src/gguf/index.js";
import { systemTime } from "../../src/core/index.js";

let directory: string;
let llama: Llama;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "rawrxd-gguf-model-"));
  // Never the default thread count: it is 4 and runs about 100× slower on a 2-vCPU machine.
  llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error });
});

afterAll(async () => {
  await llama?.dispose();
  await rm(directory, { recursive: true, force: true });
});

async function writeLoadAndGenerate(shape: LlamaModelShape, fileName: string): Promise<string> {
  const modelPath = join(directory, fileName);
  await writeLlamaModel(modelPath, shape);
  const info = await readGgufHeader(modelPath);
  const model = await llama.loadModel({ modelPath });
  try {
    expect(model.trainContextSize).toBe(shape.contextLength);
    expect(model.tokens.bos).toBe(info.bosTokenId);
    expect(model.tokens.eos).toBe(info.eosTokenId);
    expect(model.fileInfo.metadata.general.architecture).toBe("llama");
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      const text = await completion.generateCompletion("a", { maxTokens: 8 });
      completion.dispose();
      return text;
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

describe("synthetic GGUF models in node-llama-cpp", () => {
  it("loads the tiny preset and generates from it", async () => {
    const text = await writeLoadAndGenerate(syntheticModelShapes.tiny, "tiny.gguf");
    expect(typeof text).toBe("string");
    expect(text.length).toBeGreaterThan(0);
  });

  it("tokenizes text with the synthetic vocabulary", async () => {
    const modelPath = join(directory, "tiny-tokenize.gguf");
    await writeLlamaModel(modelPath, syntheticModelShapes.tiny);
    const model = await llama.loadModel({ modelPath });
    try {
      const tokens = model.tokenize("a b");
      expect(tokens.length).toBeGreaterThan(0);
      expect(model.detokenize(tokens)).toBe("a b");
    } finally {
      await model.dispose();
    }
  });

  it("loads f16 and grouped-query variants", async () => {
    const shape = { ...syntheticModelShapes.tiny, tensorType: "f16" as const, headCountKv: 2, seed: 3 };
    expect((await writeLoadAndGenerate(shape, "tiny-f16.gguf")).length).toBeGreaterThan(0);
  });

  it("loads the 134M Q8_0 preset and generates from it", async () => {
    const startMs = systemTime.monotonicNow();
    const text = await writeLoadAndGenerate(syntheticModelShapes["llama-134m"], "llama-134m.gguf");
    expect(text.length).toBeGreaterThan(0);
    expect(systemTime.monotonicNow() - startMs).toBeLessThan(20_000);
  });
});

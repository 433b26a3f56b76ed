import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { measureGguf, writeGguf } from "./gguf-writer.js";
import { createLlamaModelContents, type LlamaModelShape } from "./llama-model-writer.js";

/** Model shapes for tests and benchmarks. */
export const syntheticModelShapes = Object.freeze({
  /** About 600 KB, f32: loads and generates in milliseconds. */
  tiny: Object.freeze<LlamaModelShape>({
    layers: 2,
    embeddingLength: 64,
    headCount: 4,
    headCountKv: 4,
    feedForwardLength: 128,
    vocabSize: 512,
    contextLength: 512,
    tensorType: "f32",
    seed: 1,
    name: "synthetic-tiny",
  }),
  /** 134M parameters, Q8_0, about 143 MB: the size class of a small real model. */
  "llama-134m": Object.freeze<LlamaModelShape>({
    layers: 12,
    embeddingLength: 768,
    headCount: 12,
    headCountKv: 12,
    feedForwardLength: 2048,
    vocabSize: 32_000,
    contextLength: 2048,
    tensorType: "q8_0",
    seed: 1,
    name: "synthetic-llama-134m",
  }),
  /** 16 blocks × (4 × 2048² + 3 × 2048 × 5632) + 2 × 2048 × 32,000 ≈ 0.95 B parameters, Q8_0, about 1.1 GB: bench/gpu/gpu-check.ts. */
  "llama-1b": Object.freeze<LlamaModelShape>({
    layers: 16,
    embeddingLength: 2048,
    headCount: 16,
    headCountKv: 16,
    feedForwardLength: 5632,
    vocabSize: 32_000,
    contextLength: 2048,
    tensorType: "q8_0",
    seed: 1,
    name: "synthetic-llama-1b",
  }),
});

export type SyntheticModelPreset = keyof typeof syntheticModelShapes;

export function isSyntheticModelPreset(name: string): name is SyntheticModelPreset {
  return Object.hasOwn(syntheticModelShapes, name);
}

/**
 * Returns the path of `<dir>/synthetic-<preset>.gguf`, writing it first unless a file of the
 * expected size is already there.
 */
export async function ensureSyntheticModel(preset: SyntheticModelPreset, dir: string): Promise<string> {
  const path = join(dir, `synthetic-${preset}.gguf`);
  await ensureSyntheticModelAt(preset, path);
  return path;
}

/**
 * Writes the preset to `path` unless a file of the expected size is already there; returns
 * whether it wrote. Writes go to a temporary name and are renamed into place, so concurrent
 * callers never see a half-written model.
 */
export async function ensureSyntheticModelAt(preset: SyntheticModelPreset, path: string): Promise<boolean> {
  const contents = createLlamaModelContents(syntheticModelShapes[preset]);
  if ((await fileBytesOrUndefined(path)) === measureGguf(contents)) return false;
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.partial`;
  try {
    await writeGguf(temporaryPath, contents);
    await rename(temporaryPath, path);
  } finally {
    await rm(temporaryPath, { force: true });
  }
  return true;
}

async function fileBytesOrUndefined(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

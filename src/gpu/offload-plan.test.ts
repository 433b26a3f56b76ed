import { describe, expect, it } from "vitest";
import type { GgufInfo } from "../gguf/index.js";
import { estimateModelMemory, memoryShapeOf, type ModelMemoryShape } from "./model-memory.js";
import { defaultDeviceMarginBytes, planOffload, type DeviceMemory } from "./offload-plan.js";

const mebibyte = 1024 * 1024;
const gib = 1024 * mebibyte;

/** A 7B-class shape: 32 blocks of 200 MiB, 8 KV heads of 128, vocab 32,000. */
const sevenB: ModelMemoryShape = {
  blockCount: 32,
  embeddingLength: 4096,
  keyLength: 128,
  valueLength: 128,
  headCountKv: 8,
  vocabSize: 32_000,
  trainContextTokens: 4096,
  layerWeightBytes: new Array<number>(32).fill(200 * mebibyte),
  inputWeightBytes: 250 * mebibyte,
  outputWeightBytes: 250 * mebibyte,
};

/** The synthetic 134M model (12 blocks, n_embd 768, 12 KV heads of 64, vocab 32,000). */
const synthetic134m: ModelMemoryShape = {
  blockCount: 12,
  embeddingLength: 768,
  keyLength: 64,
  valueLength: 64,
  headCountKv: 12,
  vocabSize: 32_000,
  trainContextTokens: 2048,
  layerWeightBytes: new Array<number>(12).fill(7_669_248),
  inputWeightBytes: 26_112_000,
  outputWeightBytes: 26_115_072,
};

function device(
  freeBytes: number,
  totalBytes = freeBytes,
  options: Partial<DeviceMemory> = {},
): DeviceMemory {
  return { freeBytes, totalBytes, isUnifiedMemory: false, deviceCount: 1, ...options };
}

const base = {
  shape: sevenB,
  contextTokens: 4096,
  sequences: 1,
  hostAvailableBytes: 32 * gib,
  requestedGpuLayers: "auto" as const,
};

describe("memory estimate", () => {
  it("matches the buffers llama.cpp reports for the 134M model (KV 72 MiB, compute 65.5 MiB, output 0.12 MiB at 2048 × 1)", () => {
    const estimate = estimateModelMemory(synthetic134m, { contextTokens: 2048, sequences: 1, gpuLayers: 0 });
    expect(estimate.kvCacheBytes).toBe(72 * mebibyte);
    expect(estimate.computeBytes).toBe(65.5 * mebibyte + 32_000 * 4);
    expect(estimate.weightsBytes).toBe(12 * 7_669_248 + 26_112_000 + 26_115_072);
    expect(estimate.deviceBytes).toBe(0);
    expect(estimate.hostBytes).toBe(estimate.totalBytes);
    expect(estimate.residentBytes).toBe(
      estimate.weightsBytes + estimate.kvCacheBytes + estimate.overheadBytes,
    );
  });

  it("the KV cache grows with sequences and is padded to 256 cells; 4096 × 4 gives llama.cpp's 576 MiB", () => {
    expect(
      estimateModelMemory(synthetic134m, { contextTokens: 4096, sequences: 4, gpuLayers: 0 }).kvCacheBytes,
    ).toBe(576 * mebibyte);
    expect(
      estimateModelMemory(synthetic134m, { contextTokens: 100, sequences: 1, gpuLayers: 0 }).kvCacheBytes,
    ).toBe(
      estimateModelMemory(synthetic134m, { contextTokens: 256, sequences: 1, gpuLayers: 0 }).kvCacheBytes,
    );
  });

  it("offloading moves the last layers' weights and KV to the device, then the output layer; token embeddings stay on the host", () => {
    const partial = estimateModelMemory(sevenB, { contextTokens: 4096, sequences: 1, gpuLayers: 10 });
    expect(partial.deviceBytes).toBe(10 * (200 * mebibyte + 16 * mebibyte) + 16 * mebibyte);
    const full = estimateModelMemory(sevenB, { contextTokens: 4096, sequences: 1, gpuLayers: 33 });
    expect(full.deviceBytes).toBe(32 * 216 * mebibyte + 250 * mebibyte + 16 * mebibyte + 62.5 * mebibyte);
    expect(full.residentBytes).toBe(250 * mebibyte + full.overheadBytes);
    expect(full.totalBytes).toBe(
      estimateModelMemory(sevenB, { contextTokens: 4096, sequences: 1, gpuLayers: 0 }).totalBytes +
        16 * mebibyte,
    );
  });

  it("reads the per-layer split from the GGUF tensor list", () => {
    const tensor = (name: string, bytes: number) => ({
      name,
      bytes,
      dims: [1],
      type: "F32",
      offset: 0,
      elementCount: 1,
    });
    const info = {
      architecture: "llama",
      metadata: new Map<string, unknown>([["llama.attention.key_length", 96]]),
      blockCount: 2,
      embeddingLength: 256,
      headCount: 4,
      headCountKv: 2,
      vocabSize: 1000,
      contextLength: 512,
      tensors: [
        tensor("token_embd.weight", 10),
        tensor("blk.0.attn_q.weight", 5),
        tensor("blk.0.ffn_up.weight", 6),
        tensor("blk.1.attn_q.weight", 7),
        tensor("output_norm.weight", 1),
        tensor("output.weight", 20),
      ],
    } as unknown as GgufInfo;
    expect(memoryShapeOf(info)).toEqual({
      blockCount: 2,
      embeddingLength: 256,
      keyLength: 96,
      valueLength: 64,
      headCountKv: 2,
      vocabSize: 1000,
      trainContextTokens: 512,
      layerWeightBytes: [11, 7],
      inputWeightBytes: 10,
      outputWeightBytes: 21,
    });
  });
});

describe("planOffload: GPU layers with a safety margin", () => {
  it("the CPU backend offloads nothing", () => {
    const plan = planOffload({ ...base, backend: "cpu", device: undefined });
    expect(plan).toMatchObject({
      gpuLayers: 0,
      offload: "none",
      totalLayers: 33,
      marginBytes: 0,
      reason: "CPU backend: every layer runs on the CPU",
    });
    expect(plan.hostRamBytes).toBe(plan.estimate.totalBytes);
  });

  it("a large card takes every layer", () => {
    const plan = planOffload({ ...base, backend: "cuda", device: device(79 * gib, 80 * gib) });
    expect(plan).toMatchObject({ gpuLayers: 33, offload: "full", marginBytes: Math.floor(1.6 * gib) });
    expect(plan.reason).toMatch(
      /^all 33 layers fit on the cuda device \(7\.1 GiB needed, 79\.0 GiB free, margin 1\.6 GiB\)$/,
    );
    expect(plan.hostRamBytes).toBe(plan.estimate.hostBytes);
    expect(plan.hostRamBytes).toBeLessThan(400 * mebibyte);
  });

  it("a small card takes as many layers as fit with the margin: partial offload", () => {
    const plan = planOffload({ ...base, backend: "cuda", device: device(3891 * mebibyte, 4 * gib) });
    // Each block needs 200 MiB of weights + 16 MiB of KV; 16 MiB of activations; 512 MiB margin.
    expect(plan).toMatchObject({ gpuLayers: 15, offload: "partial", marginBytes: 512 * mebibyte });
    expect(plan.estimate.deviceBytes + plan.marginBytes).toBeLessThanOrEqual(3891 * mebibyte);
    expect(plan.reason).toContain("15 of 33 layers fit on the cuda device");
  });

  it("when not one layer fits, the plan is the CPU", () => {
    const plan = planOffload({ ...base, backend: "vulkan", device: device(600 * mebibyte, 1 * gib) });
    expect(plan).toMatchObject({ gpuLayers: 0, offload: "none" });
    expect(plan.reason).toMatch(/^not even one layer fits on the vulkan device/);
  });

  it("an explicit --gpu-layers is taken as is, with a warning when it does not fit", () => {
    const plan = planOffload({
      ...base,
      backend: "cuda",
      device: device(2 * gib, 4 * gib),
      requestedGpuLayers: 40,
    });
    expect(plan).toMatchObject({
      gpuLayers: 33,
      offload: "full",
      reason: "--gpu-layers 40 (capped at the model's 33 layers)",
    });
    expect(plan.warning).toMatch(
      /^--gpu-layers 33 needs about 7\.6 GiB of device memory \(margin included\) but 2\.0 GiB is free$/,
    );
  });

  it("an integrated GPU's memory is host RAM: both parts come out of it, all of it counts for admission, and partial offload saves nothing", () => {
    const plan = planOffload({
      ...base,
      backend: "vulkan",
      device: device(12 * gib, 16 * gib, { isUnifiedMemory: true }),
      hostAvailableBytes: 12 * gib,
    });
    expect(plan.offload).toBe("full");
    expect(plan.hostRamBytes).toBe(plan.estimate.totalBytes);
    const tight = planOffload({
      ...base,
      backend: "vulkan",
      device: device(4 * gib, 16 * gib, { isUnifiedMemory: true }),
      hostAvailableBytes: 4 * gib,
    });
    expect(tight.offload).toBe("none");
  });

  it("margin: node-llama-cpp's padding (8 % of the device, at most 1.6 GiB), at least 512 MiB, per device; --gpu-margin overrides", () => {
    expect(defaultDeviceMarginBytes(4 * gib)).toBe(512 * mebibyte);
    expect(defaultDeviceMarginBytes(12 * gib)).toBe(Math.floor(12 * gib * 0.08));
    expect(defaultDeviceMarginBytes(80 * gib)).toBe(Math.floor(1.6 * gib));
    expect(
      planOffload({ ...base, backend: "cuda", device: device(20 * gib, 24 * gib, { deviceCount: 2 }) })
        .marginBytes,
    ).toBe(2 * Math.floor(12 * gib * 0.08));
    expect(
      planOffload({ ...base, backend: "cuda", device: device(40 * gib), marginBytes: 0 }).marginBytes,
    ).toBe(0);
  });
});

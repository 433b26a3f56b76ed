import { describe, expect, it } from "vitest";
import { chooseFlashAttention, narrowHeadKeyLength } from "./flash-attention.js";

describe("chooseFlashAttention", () => {
  it("turns flash attention off on the CPU for heads of 32 key values or fewer", () => {
    for (const keyLength of [8, 16, narrowHeadKeyLength]) {
      const choice = chooseFlashAttention("auto", { keyLength, gpuLayers: 0 });
      expect(choice.option).toBe(false);
      expect(choice.reason).toContain(`${keyLength} key values per head`);
    }
  });

  it("leaves llama.cpp's choice for wider heads, GPU layers and an unknown width", () => {
    expect(chooseFlashAttention("auto", { keyLength: 64, gpuLayers: 0 }).option).toBe("auto");
    expect(chooseFlashAttention("auto", { keyLength: 128, gpuLayers: 0 }).option).toBe("auto");
    expect(chooseFlashAttention("auto", { keyLength: 8, gpuLayers: 6 }).option).toBe("auto");
    expect(chooseFlashAttention("auto", { keyLength: undefined, gpuLayers: 0 }).option).toBe("auto");
  });

  it("does what --flash-attention on or off says, whatever the model", () => {
    expect(chooseFlashAttention("on", { keyLength: 8, gpuLayers: 0 })).toEqual({
      option: true,
      reason: "--flash-attention on",
    });
    expect(chooseFlashAttention("off", { keyLength: 128, gpuLayers: 2 }).option).toBe(false);
  });
});

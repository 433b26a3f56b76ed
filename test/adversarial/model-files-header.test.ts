/**
 * Hostile GGUF headers (#15 §1 "Model files"): a huge or a looping chat template, vocabulary
 * arrays that disagree, special token ids out of range, an over-long token, an architecture
 * llama.cpp does not know, overlapping, misaligned and truncated tensors, and alignments of 2^63,
 * 0 and 48. Each is refused by the header reader (bounded time, no allocation sized by the file)
 * and, through HTTP on the real engine, with a 422 naming the problem before any runner starts.
 */
import { truncateSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import {
  defaultGgufLimits,
  measureGguf,
  readGgufHeader,
  writeGguf,
  type GgufWriteKeyValue,
  type GgufWriteTensor,
  type WriteGgufOptions,
} from "../../src/gguf/index.js";
import {
  expectHealthy,
  expectRefused,
  largestAllocationDuring,
  refusalBoundMs,
  startHostileModelServer,
  validContents,
  type HostileModelServer,
} from "./model-files.testing.js";

const valid = validContents;
const vocabSize = 260;

function withKeyValue(entry: GgufWriteKeyValue): WriteGgufOptions {
  const others = valid.keyValues.filter((existing) => existing.key !== entry.key);
  return { ...valid, keyValues: [...others, entry] };
}
function withTensorOffset(index: number, offset: bigint): WriteGgufOptions {
  const tensors = valid.tensors!.map((tensor, at): GgufWriteTensor =>
    at === index ? { ...tensor, offsetOverride: offset } : tensor,
  );
  return { ...valid, keyValues: valid.keyValues, tensors };
}
const uint32 = (key: string, value: number): WriteGgufOptions => withKeyValue({ key, type: "uint32", value });
const tokens = valid.keyValues.find((entry) => entry.key === "tokenizer.ggml.tokens")!.value as string[];
const fiftyMiB = 50 * 1024 * 1024;
// token_embd.weight: 32 × 260 f32, the first tensor; the second starts right after it.
const secondTensorOffset = 32 * vocabSize * 4;

interface HostileCase {
  name: string;
  /** File name without .gguf. */
  model: string;
  contents: WriteGgufOptions;
  /** Bytes cut off the end after writing. */
  cutBytes?: number;
  message: RegExp;
}

const cases: HostileCase[] = [
  {
    name: "a 50 MB chat template",
    model: "template-50mb",
    contents: withKeyValue({ key: "tokenizer.chat_template", type: "string", value: "x".repeat(fiftyMiB) }),
    message: /"tokenizer\.chat_template" claims a length of 52428800, more than the limit of 1048576/,
  },
  {
    name: "fewer scores than tokens",
    model: "vocab-scores",
    contents: withKeyValue({
      key: "tokenizer.ggml.scores",
      type: "array",
      elementType: "float32",
      value: new Float32Array(vocabSize - 1),
    }),
    message:
      /vocabulary arrays disagree: "tokenizer\.ggml\.tokens" has 260 entries but "tokenizer\.ggml\.scores" has 259/,
  },
  {
    name: "more token types than tokens",
    model: "vocab-types",
    contents: withKeyValue({
      key: "tokenizer.ggml.token_type",
      type: "array",
      elementType: "int32",
      value: new Int32Array(vocabSize + 5).fill(1),
    }),
    message: /"tokenizer\.ggml\.token_type" has 265/,
  },
  {
    name: "a BOS token id out of range",
    model: "bos-range",
    contents: uint32("tokenizer.ggml.bos_token_id", vocabSize),
    message: /"tokenizer\.ggml\.bos_token_id" is 260, outside the vocabulary of 260 tokens/,
  },
  {
    name: "an EOS token id out of range",
    model: "eos-range",
    contents: uint32("tokenizer.ggml.eos_token_id", 1_000_000),
    message: /"tokenizer\.ggml\.eos_token_id" is 1000000, outside the vocabulary/,
  },
  {
    name: "a FIM token id out of range",
    model: "fim-range",
    contents: uint32("tokenizer.ggml.fim_pre_token_id", 5000),
    message: /"tokenizer\.ggml\.fim_pre_token_id" is 5000, outside the vocabulary/,
  },
  {
    name: "a padding token id out of range",
    model: "pad-range",
    contents: uint32("tokenizer.ggml.padding_token_id", 300),
    message: /"tokenizer\.ggml\.padding_token_id" is 300/,
  },
  {
    name: "a 64 KiB token",
    model: "long-token",
    contents: withKeyValue({
      key: "tokenizer.ggml.tokens",
      type: "array",
      elementType: "string",
      value: tokens.map((token, index) => (index === 100 ? "a".repeat(64 * 1024) : token)),
    }),
    message:
      /a token in "tokenizer\.ggml\.tokens" \(index 100\) claims a length of 65536, more than the limit of 4096/,
  },
  {
    name: "an architecture llama.cpp does not know",
    model: "unknown-arch",
    contents: withKeyValue({ key: "general.architecture", type: "string", value: "hostilenet" }),
    message:
      /architecture "hostilenet" is not one the llama\.cpp in this server \(node-llama-cpp 3\.21\.1\) knows/,
  },
  {
    name: "overlapping tensors",
    model: "tensor-overlap",
    contents: withTensorOffset(1, 0n),
    message: /tensor "output_norm\.weight" data offset 0 overlaps the tensor before it/,
  },
  {
    name: "a misaligned tensor",
    model: "tensor-misaligned",
    contents: withTensorOffset(1, BigInt(secondTensorOffset + 4)),
    message: /data offset 33284 is not a multiple of the alignment 32/,
  },
  {
    name: "tensor data past the end of the file",
    model: "tensor-past-end",
    contents: valid,
    cutBytes: 64,
    message: /ends past the end of the file/,
  },
  {
    name: "a tensor offset of 2^40",
    model: "tensor-far",
    contents: withTensorOffset(valid.tensors!.length - 1, 2n ** 40n),
    message: /ends past the end of the file/,
  },
  {
    name: "a tensor offset of 2^62",
    model: "tensor-farther",
    contents: withTensorOffset(valid.tensors!.length - 1, 2n ** 62n),
    message: /has a data offset of 4611686018427387904, past any possible file size/,
  },
  {
    name: "alignment 2^63",
    model: "align-2-63",
    contents: withKeyValue({ key: "general.alignment", type: "uint64", value: 2n ** 63n }),
    message: /"general\.alignment" must be a uint32, but it is a uint64/,
  },
  {
    name: "alignment 0",
    model: "align-0",
    contents: uint32("general.alignment", 0),
    message: /"general\.alignment" is 0, which is not a power of two/,
  },
  {
    name: "alignment 48",
    model: "align-48",
    contents: uint32("general.alignment", 48),
    message: /"general\.alignment" is 48, which is not a power of two/,
  },
];

describe("hostile GGUF headers", () => {
  let test: HostileModelServer;

  beforeAll(async () => {
    test = await startHostileModelServer();
    for (const hostile of cases) {
      const path = join(test.modelsDir, `${hostile.model}.gguf`);
      await writeGguf(path, hostile.contents);
      if (hostile.cutBytes !== undefined)
        truncateSync(path, measureGguf(hostile.contents) - hostile.cutBytes);
    }
  });
  afterAll(async () => test?.dispose());

  describe.each(cases)("$name", (hostile) => {
    it("the reader refuses it in bounded time, allocating nothing sized by the file's claims", async () => {
      const path = join(test.modelsDir, `${hostile.model}.gguf`);
      const startedMs = systemTime.monotonicNow();
      let error: unknown;
      const largest = await largestAllocationDuring(() =>
        readGgufHeader(path).catch((thrown: unknown) => {
          error = thrown;
        }),
      );
      expect(systemTime.monotonicNow() - startedMs).toBeLessThan(refusalBoundMs);
      expect(error).toMatchObject({ code: "model-invalid" });
      const message = (error as Error).message;
      expect(message).toContain(`${hostile.model}.gguf is not a valid GGUF`);
      expect(message).toMatch(hostile.message);
      // The largest buffer is a read chunk (or the header's own bytes, which the file really has).
      expect(largest).toBeLessThanOrEqual(Math.max(defaultGgufLimits.readChunkBytes, 64 * 1024 + 1024));
    });

    it("a request for it gets a 422 naming the problem, and no runner starts", async () => {
      await expectRefused(test, hostile.model, {
        status: 422,
        code: "model-invalid",
        message: hostile.message,
      });
    });
  });

  it("leaves the server healthy: /health is ok and the good model still completes", async () => {
    await expectHealthy(test);
    const listed = (await (await fetch(`${test.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(listed.models.map((model) => model.name)).toEqual(["good"]);
  });
});

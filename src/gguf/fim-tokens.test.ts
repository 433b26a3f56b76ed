import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fimTokenIds } from "./fim-tokens.js";
import { writeFimModel } from "./fim-model-writer.js";
import { writeLlamaModel } from "./llama-model-writer.js";
import { readGgufHeader } from "./read-gguf-header.js";
import { syntheticModelShapes } from "./synthetic-models.js";

describe("fimTokenIds", () => {
  let dir: string;
  const shape = syntheticModelShapes.tiny;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rawrxd-fim-"));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("reads fim_pre/fim_suf/fim_mid, and the older prefix/suffix/middle keys", async () => {
    const expected = {
      prefix: shape.vocabSize - 3,
      suffix: shape.vocabSize - 2,
      middle: shape.vocabSize - 1,
    };
    await writeFimModel(join(dir, "new.gguf"), shape);
    await writeFimModel(join(dir, "old.gguf"), shape, { legacyKeys: true });
    expect(fimTokenIds((await readGgufHeader(join(dir, "new.gguf"))).metadata)).toEqual(expected);
    expect(fimTokenIds((await readGgufHeader(join(dir, "old.gguf"))).metadata)).toEqual(expected);
  });

  it("is undefined without all three keys or with a value that is not a token id", async () => {
    await writeLlamaModel(join(dir, "plain.gguf"), shape);
    expect(fimTokenIds((await readGgufHeader(join(dir, "plain.gguf"))).metadata)).toBeUndefined();
    const partial = new Map<string, number | string>([
      ["tokenizer.ggml.fim_pre_token_id", 1],
      ["tokenizer.ggml.fim_suf_token_id", 2],
    ]);
    expect(fimTokenIds(partial)).toBeUndefined();
    partial.set("tokenizer.ggml.fim_mid_token_id", "3");
    expect(fimTokenIds(partial)).toBeUndefined();
    partial.set("tokenizer.ggml.fim_mid_token_id", -1);
    expect(fimTokenIds(partial)).toBeUndefined();
  });
});

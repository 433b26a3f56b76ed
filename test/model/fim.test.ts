/**
 * Fill-in-the-middle on the real engine: a synthetic model with FIM tokens in its metadata answers
 * /infill (llama.vscode's shape), /v1/completions with suffix and /api/generate with suffix; the
 * prompt is [BOS] <PRE> prefix <SUF> suffix <MID> in token ids; stories260K (no FIM tokens) gets a 400.
 */
import { join } from "node:path";
import { getLlama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infillPromptTokens } from "../../src/engine/runner/infill-prompt.js";
import { syntheticModelShapes, writeFimModel } from "../../src/gguf/index.js";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const shape = { ...syntheticModelShapes.tiny, name: "synthetic-fim" };
const prefix = "def add(a, b):\n    return ";
const suffix = "\n\nprint(add(1, 2))\n";

describe("fill-in-the-middle on the real engine", () => {
  let test: ModelTestServer;

  beforeAll(async () => {
    test = await startModelServer({ parallel: "1" });
    await writeFimModel(join(test.modelsDir, "coder.gguf"), shape);
    await writeFimModel(join(test.modelsDir, "coder-legacy.gguf"), shape, { legacyKeys: true });
  });
  afterAll(async () => test.dispose());

  it("builds the prompt as token ids in PSM order; text never becomes a FIM token", async () => {
    const llama = await getLlama({ build: "never", gpu: false });
    const model: LlamaModel = await llama.loadModel({ modelPath: join(test.modelsDir, "coder.gguf") });
    try {
      const { prefix: pre, suffix: suf, middle: mid } = model.tokens.infill;
      expect([pre, suf, mid]).toEqual([shape.vocabSize - 3, shape.vocabSize - 2, shape.vocabSize - 1]);
      const tokens = infillPromptTokens(
        model,
        { kind: "infill", prefix: "ab <fim_middle>", suffix: "cd" },
        "coder",
      );
      const text = (value: string) => model.tokenize(value, false);
      expect(tokens).toEqual([model.tokens.bos, pre, ...text("ab <fim_middle>"), suf, ...text("cd"), mid]);
      expect(tokens.filter((token) => token === mid)).toHaveLength(1);
      const withExtra = infillPromptTokens(
        model,
        {
          kind: "infill",
          prefix: "x",
          suffix: "y",
          prompt: "z",
          extra: [{ text: "other file", filename: "a.py" }],
        },
        "coder",
      );
      const spm = infillPromptTokens(
        model,
        { kind: "infill", prefix: "ab", suffix: "cd", order: "spm" },
        "coder",
      );
      expect(spm).toEqual([model.tokens.bos, suf, ...text("cd"), pre, ...text("ab"), mid]);
      expect(withExtra).toEqual([
        model.tokens.bos,
        ...text("\n\n--- snippet ---\n\nother file"),
        pre,
        ...text("x"),
        ...text("z"),
        suf,
        ...text("y"),
        mid,
      ]);
    } finally {
      await llama.dispose();
    }
  });

  it("answers llama.vscode's /infill: an array of {content} for n_cmpl 3, one object otherwise, empty on warm-up", async () => {
    const base = {
      id_slot: 0,
      input_prefix: prefix,
      input_suffix: suffix,
      input_extra: [{ text: "def sub(a, b):\n    return a - b\n", time: 1, filename: "util.py" }],
      prompt: "",
      top_k: 40,
      top_p: 0.99,
      stream: false,
      samplers: ["top_k", "top_p", "infill"],
      cache_prompt: true,
      t_max_prompt_ms: 500,
      t_max_predict_ms: 500,
      model: "coder",
    };
    const warmUp = await postJson(`${test.url}/infill`, {
      ...base,
      input_prefix: "",
      input_suffix: "",
      input_extra: [],
      n_predict: 0,
    });
    expect(warmUp.status).toBe(200);
    expect(((await warmUp.json()) as Json).content).toBe("");

    const three = await postJson(`${test.url}/infill`, { ...base, n_predict: 8, n_cmpl: 3 });
    expect(three.status).toBe(200);
    const list = (await three.json()) as Json[];
    expect(list).toHaveLength(3);
    for (const [index, item] of list.entries()) {
      expect(item.index).toBe(index);
      expect(typeof item.content).toBe("string");
      expect(item.tokens_predicted).toBeGreaterThan(0);
      expect(item.timings.predicted_n).toBe(item.tokens_predicted);
    }

    const one = await postJson(`${test.url}/infill`, { ...base, n_predict: 4, temperature: 0 });
    const single = (await one.json()) as Json;
    expect(typeof single.content).toBe("string");
    expect(single.stop).toBe(true);
    // The same prefix as before: all but the last prompt token come from the sequence's cache.
    expect(single.tokens_cached).toBeGreaterThan(single.tokens_evaluated / 2);
  });

  it("streams /infill as SSE chunks ending with stop: true", async () => {
    const response = await postJson(`${test.url}/infill`, {
      model: "coder",
      input_prefix: prefix,
      input_suffix: suffix,
      n_predict: 4,
      stream: true,
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const frames = (await response.text())
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: "))
      .map((frame): Json => JSON.parse(frame.slice(6)));
    expect(frames.at(-1).stop).toBe(true);
    expect(frames.slice(0, -1).every((frame: Json) => frame.stop === false)).toBe(true);
  });

  it("fills in through /v1/completions suffix and /api/generate suffix, reusing the cached prefix", async () => {
    const first = await postJson(`${test.url}/v1/completions`, {
      model: "coder",
      prompt: prefix,
      suffix,
      max_tokens: 4,
      temperature: 0,
    });
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as Json;
    expect(firstBody.usage.prompt_tokens).toBeGreaterThan(10);
    // One character more before the cursor: the tokens before the edit stay cached.
    const edited = await postJson(`${test.url}/v1/completions`, {
      model: "coder",
      prompt: `${prefix}a`,
      suffix,
      max_tokens: 4,
      temperature: 0,
    });
    const editedBody = (await edited.json()) as Json;
    expect(editedBody.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(5);

    // Continue's FIM request: no `stream` field, so NDJSON streaming.
    const generate = await postJson(`${test.url}/api/generate`, {
      model: "coder-legacy",
      prompt: prefix,
      suffix,
      options: { temperature: 0.01, num_predict: 4, stop: ["\n\n"], num_ctx: 512 },
      keep_alive: 1800,
    });
    expect(generate.status).toBe(200);
    const lines = (await generate.text())
      .trim()
      .split("\n")
      .map((line): Json => JSON.parse(line));
    expect(lines.some((line: Json) => "error" in line)).toBe(false);
    expect(lines.at(-1).done).toBe(true);
  });

  it("parses FIM tokens typed into a raw /api/generate prompt (Continue's raw path) and into /v1/completions prompts (its OpenAI path)", async () => {
    const count = async (path: string, body: object): Promise<number> => {
      const answer = (await (await postJson(`${test.url}${path}`, body)).json()) as Json;
      return Number(answer.usage?.prompt_tokens ?? answer.prompt_eval_count);
    };
    const raw = {
      model: "coder",
      prompt: "<fim_prefix>",
      raw: true,
      stream: false,
      options: { num_predict: 1 },
    };
    // The one control token (raw: no BOS), not the characters of "<fim_prefix>".
    expect(await count("/api/generate", raw)).toBe(1);
    // BOS and the one control token (docs/decisions/0028).
    const text = { model: "coder", prompt: "<fim_prefix>", max_tokens: 1 };
    expect(await count("/v1/completions", text)).toBe(2);
  });

  it("refuses a model without FIM tokens with a 400 that says why", async () => {
    const openai = await postJson(`${test.url}/v1/completions`, {
      model: "stories260K",
      prompt: "Once",
      suffix: "end.",
      max_tokens: 4,
    });
    expect(openai.status).toBe(400);
    expect(((await openai.json()) as Json).error.message).toMatch(/no fill-in-the-middle tokens/);
    const ollama = await postJson(`${test.url}/api/generate`, {
      model: "stories260K",
      prompt: "Once",
      suffix: "end.",
    });
    expect(ollama.status).toBe(400);
    expect(((await ollama.json()) as Json).error).toMatch(/fim_pre_token_id/);
    const infill = await postJson(`${test.url}/infill`, {
      model: "stories260K",
      input_prefix: "a",
      input_suffix: "b",
    });
    expect(infill.status).toBe(400);
  });

  it("shows FIM-capable models with `insert` and a template mentioning .Suffix (Continue's check)", async () => {
    const coder = (await (await postJson(`${test.url}/api/show`, { name: "coder" })).json()) as Json;
    expect(coder.capabilities).toContain("insert");
    expect(coder.template).toContain(".Suffix");
    const legacy = (await (await postJson(`${test.url}/api/show`, { model: "coder-legacy" })).json()) as Json;
    expect(legacy.capabilities).toContain("insert");
    const stories = (await (await postJson(`${test.url}/api/show`, { name: "stories260K" })).json()) as Json;
    expect(stories.capabilities).not.toContain("insert");
    expect(stories.template).not.toContain(".Suffix");
  });
});

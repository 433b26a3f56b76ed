import { describe, expect, it } from "vitest";
import { infillToNative, withFimOrder } from "./infill-body.js";
import { infillRequestSchema } from "./schema.js";

const schema = infillRequestSchema(4096);
const options = { id: "r1", model: "coder", priority: "normal" as const, maxTokensLimit: 4096 };

describe("/infill translation", () => {
  it("maps llama-server fields to an infill input; n_predict -1 is the server's limit, 0 a one-token warm-up", () => {
    const body = schema.parse({
      input_prefix: "a",
      input_suffix: "b",
      input_extra: [{ text: "x", filename: "f.py", time: 1 }],
      prompt: "p",
      n_predict: 16,
      samplers: ["top_k"],
      id_slot: 0,
    });
    const request = infillToNative(body, options);
    expect(request.input).toEqual({
      kind: "infill",
      prefix: "a",
      suffix: "b",
      prompt: "p",
      extra: [{ text: "x", filename: "f.py" }],
    });
    expect(request.maxTokens).toBe(16);
    expect(request.sampling).toMatchObject({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05 });
    expect(infillToNative(schema.parse({}), options).maxTokens).toBe(4096);
    expect(infillToNative(schema.parse({ n_predict: 0 }), options).maxTokens).toBe(1);
  });

  it("refuses out-of-range counts", () => {
    expect(schema.safeParse({ n_cmpl: 9 }).success).toBe(false);
    expect(schema.safeParse({ n_predict: -2 }).success).toBe(false);
    expect(schema.safeParse({ n_predict: 5000 }).success).toBe(false);
  });

  it("applies --fim-order to infill requests only", () => {
    const infill = infillToNative(schema.parse({ input_prefix: "a" }), options);
    expect(withFimOrder(infill, "spm").input).toMatchObject({ kind: "infill", order: "spm" });
    const text = { ...infill, input: { kind: "text" as const, prompt: "x" } };
    expect(withFimOrder(text, "spm")).toBe(text);
  });
});

/**
 * --draft-model (ADR 0041) on the real engine: stories260K drafting for itself (same vocabulary)
 * gives the same greedy text as no speculation, with drafts made and accepted; a synthetic
 * model of another vocabulary is refused at load with an error naming both models and what
 * differs, and no server path.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureSyntheticModelAt } from "../../src/gguf/index.js";
import { join } from "node:path";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";
import { completeGreedy, freePrompt, storyStart, type Completion } from "./speculative.testing.js";

const start = storyStart;
const free = freePrompt;
const maxTokens = 48;
const complete = (url: string, prompt: string): Promise<Completion> => completeGreedy(url, prompt, maxTokens);

describe("draft model (real engine, stories260K)", () => {
  let server: ModelTestServer | undefined;
  afterAll(async () => {
    await server?.dispose();
  });

  describe("drafting for itself", () => {
    let expected: { copy: Completion; free: Completion };
    let copyPrompt: string;

    beforeAll(async () => {
      const off = await startModelServer({ speculative: "off" });
      try {
        const passage = start + (await complete(off.url, start)).text;
        copyPrompt = `${passage}\n${passage}\n${start}`;
        expected = { copy: await complete(off.url, copyPrompt), free: await complete(off.url, free) };
      } finally {
        await off.dispose();
      }
      server = await startModelServer({ "draft-model": "stories260K" });
    });

    it("gives the same greedy text on a copying prompt, with drafts made and accepted", async () => {
      const copy = await complete(server!.url, copyPrompt);
      expect(copy.text).toBe(expected.copy.text);
      expect(copy.drafted).toBeGreaterThan(0);
      expect(copy.accepted).toBeGreaterThan(0);
      expect(copy.accepted).toBeLessThanOrEqual(copy.drafted!);
    });

    // node-llama-cpp 3.21.1 validates at most one drafted token per step (`validatedTokens` is
    // never filled in `_speculativeEvaluate`; ADR 0041): `npm ci` applies the fix (ADR 0042), and a
    // model drafting for itself then has (nearly) every drafted token accepted.
    it("accepts most tokens a model drafts for itself (node-llama-cpp 3.21.1 needs the install-time fix, ADR 0042)", async () => {
      const copy = await complete(server!.url, copyPrompt);
      // Under the bug about half (one per draft of two); with it fixed 25 of 25 on a fresh
      // sequence, 17 of 21 on a reused one (near-ties decided differently at other batch sizes).
      expect(copy.accepted! / copy.drafted!).toBeGreaterThanOrEqual(0.75);
    });

    it("gives the same greedy text on free text", async () => {
      const text = await complete(server!.url, free);
      expect(text.text).toBe(expected.free.text);
      expect(text.drafted).toBeDefined();
    });

    it("does not draft for sampled requests", async () => {
      const response = await postJson(`${server!.url}/v1/completions`, {
        model: "stories260K",
        prompt: free,
        max_tokens: 8,
        temperature: 0.8,
        seed: 7,
      });
      const body = (await response.json()) as { usage: Record<string, unknown> };
      expect(body.usage["completion_tokens_details"]).toBeUndefined();
    });
  });

  describe("a draft of another vocabulary", () => {
    let refused: ModelTestServer | undefined;
    afterAll(async () => {
      await refused?.dispose();
    });

    it("is refused at load, naming both models and what differs", async () => {
      refused = await startModelServer({ "draft-model": "synthetic-tiny" });
      // Same token count as stories260K (512), other token texts.
      await ensureSyntheticModelAt("tiny", join(refused.modelsDir, "synthetic-tiny.gguf"));
      const response = await postJson(`${refused.url}/v1/completions`, {
        model: "stories260K",
        prompt: free,
        max_tokens: 4,
        temperature: 0,
      });
      expect(response.status).toBe(500);
      const text = ((await response.json()) as { error: { message: string } }).error.message;
      expect(text).toContain('"stories260K"');
      expect(text).toContain('"synthetic-tiny"');
      expect(text).toMatch(/vocabularies differ: \d+ of their 512 token texts differ, the first at id \d+/);
      expect(text).toContain("--draft-model");
      expect(text).not.toContain(refused.modelsDir);
    });
  });
});

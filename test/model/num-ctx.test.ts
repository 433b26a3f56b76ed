/**
 * Ollama `options.num_ctx` is honoured as a limit on prompt plus output (issue #10, item 7): a
 * prompt that does not fit is a 400 naming num_ctx, generation stops at it, and a value above
 * the loaded context (Cline sends 32768) leaves the loaded context in force.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startModelServer, type ModelTestServer } from "./helpers.js";

let test: ModelTestServer;

beforeAll(async () => {
  test = await startModelServer();
});

afterAll(async () => {
  await test.dispose();
});

const longPrompt = "Once upon a time, there was a little girl named Lily. She loved to play outside. ".repeat(
  8,
);

async function generate(prompt: string, options: Record<string, unknown>) {
  const response = await postJson(`${test.url}/api/generate`, {
    model: "stories260K",
    prompt,
    stream: false,
    options: { temperature: 0, ...options },
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      error?: string;
      prompt_eval_count: number;
      eval_count: number;
      done_reason: string;
    },
  };
}

describe("options.num_ctx", () => {
  it("refuses a prompt longer than num_ctx with a 400 that names it", async () => {
    const answer = await generate(longPrompt, { num_ctx: 64 });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/num_ctx is 64/);
  });

  it("stops generation where prompt plus output reach num_ctx", async () => {
    const answer = await generate("Once upon a time", { num_ctx: 40, num_predict: -1 });
    expect(answer.status).toBe(200);
    const used = answer.body.prompt_eval_count + answer.body.eval_count;
    expect(used).toBeLessThanOrEqual(40);
    expect(used).toBeGreaterThan(30);
    expect(answer.body.done_reason).toBe("length");
  });

  it("a num_ctx above the loaded context leaves the loaded one in force", async () => {
    const answer = await generate(longPrompt, { num_ctx: 32768, num_predict: 8 });
    expect(answer.status).toBe(200);
    expect(answer.body.eval_count).toBe(8);
  });
});

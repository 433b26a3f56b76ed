/**
 * Preemption on the real engine: a high request takes the only sequence from a running low
 * one; the low request's stream pauses and resumes, and its full text equals an uninterrupted
 * greedy run (no error, no duplicated or lost tokens).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, sseData, startModelServer, type ModelTestServer } from "./helpers.js";

const prompt = "Once upon a time, there was a little girl named Lily.";
const lowBody = { model: "stories260K", prompt, max_tokens: 300, temperature: 0 };

function textOf(sse: string): string {
  return sseData(sse)
    .filter((payload) => payload !== "[DONE]")
    .map((payload) => (JSON.parse(payload) as { choices: { text?: string }[] }).choices[0]?.text ?? "")
    .join("");
}

describe("preemption with the real engine", () => {
  let test: ModelTestServer;
  const preempted: string[] = [];
  const resumed: string[] = [];

  beforeAll(async () => {
    test = await startModelServer({ parallel: "1" });
    test.server.events.on("request-preempted", (event) => preempted.push(event.requestId));
    test.server.events.on("request-resumed", (event) => resumed.push(event.requestId));
  });
  afterAll(async () => test.dispose());

  it("resumes the preempted low request with exactly the uninterrupted greedy text", async () => {
    const uninterrupted = (await (await postJson(`${test.url}/v1/completions`, lowBody)).json()) as {
      choices: { text: string }[];
    };
    const expected = uninterrupted.choices[0]!.text;
    expect(expected.length).toBeGreaterThan(200);

    // Read one chunk of the low stream, then send the high request while the low one still
    // has most of its 300 tokens to go; read the rest of the low stream afterwards.
    const low = await fetch(`${test.url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Priority": "low", "X-Request-Id": "low-1" },
      body: JSON.stringify({ ...lowBody, stream: true }),
    });
    const reader = low.body!.getReader();
    const decoder = new TextDecoder();
    let lowText = decoder.decode((await reader.read()).value as Uint8Array);

    const high = await fetch(`${test.url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Priority": "high" },
      body: JSON.stringify({ model: "stories260K", prompt: "The dog", max_tokens: 12, temperature: 0 }),
    });
    expect(high.status).toBe(200);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lowText += decoder.decode(value as Uint8Array);
    }
    expect(sseData(lowText).at(-1)).toBe("[DONE]");
    expect(textOf(lowText)).toBe(expected);
    // The low request really was preempted (it had 300 tokens to go when the high one came).
    expect(preempted).toContain("low-1");
    expect(resumed).toContain("low-1");
  });
});

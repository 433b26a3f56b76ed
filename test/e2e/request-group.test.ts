/**
 * X-Request-Group: a newer generation in the same group cancels the older one at once (an
 * editor's completion superseded by the next keystroke); other groups and ungrouped requests
 * are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, waitFor, type Json, type TestServer } from "./helpers.js";

describe("X-Request-Group", () => {
  let test: TestServer;
  const reply = "tick ".repeat(200).trim();

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: { reply, tokenDelayMs: 10 } },
      flags: { parallel: "4" },
    });
  });
  afterAll(async () => test.dispose());

  const complete = (group: string | undefined, stream: boolean): Promise<Response> =>
    postJson(
      `${test.url}/v1/completions`,
      { model: "alpha", prompt: "Once", max_tokens: 200, stream },
      { headers: group === undefined ? {} : { "x-request-group": group } },
    );

  it("a newer request in the group cancels the older one; the older answers 499", async () => {
    const older = complete("editor-1", false);
    const other = complete("editor-2", true);
    await waitFor(
      () => (test.engine.runnerFor("alpha")?.producedTokens ?? 0) >= 4 || undefined,
      "two running requests",
    );
    const newer = await complete("editor-1", true);
    const olderResponse = await older;
    expect(olderResponse.status).toBe(499);
    expect(((await olderResponse.json()) as Json).error.message).toMatch(/superseded/);
    // The newer one and the other group run to their end.
    expect(newer.status).toBe(200);
    expect(await newer.text()).toContain("[DONE]");
    expect(await (await other).text()).toContain("[DONE]");
  }, 20_000);

  it("a streamed request ends early when superseded, through the Ollama route too", async () => {
    const older = await postJson(
      `${test.url}/api/generate`,
      { model: "alpha", prompt: "Once", options: { num_predict: 200 } },
      { headers: { "x-request-group": "g" } },
    );
    expect(older.status).toBe(200);
    const reading = older.text().catch(() => "");
    const newer = await postJson(
      `${test.url}/api/generate`,
      { model: "alpha", prompt: "Once", options: { num_predict: 2 }, stream: false },
      { headers: { "x-request-group": "g" } },
    );
    expect(newer.status).toBe(200);
    const olderText = await reading;
    // Cut short: far fewer than 200 ticks arrived.
    expect((olderText.match(/tick/g) ?? []).length).toBeLessThan(150);
  }, 20_000);
});

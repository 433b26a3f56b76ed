/**
 * The copying workload (bench/engine/copy-workload.ts, ADR 0045) on the real engine: stories260K
 * reproduces a passage of its own greedy text from the prompt, and with prompt lookup under
 * `auto` the text is the same while nearly every drafted token is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCopyWorkload, type CopyWorkload } from "../../bench/engine/copy-workload.js";
import { startModelServer, type ModelTestServer } from "./helpers.js";
import { completeGreedy, type Completion } from "./speculative.testing.js";

const maxTokens = 128;

describe("speculative decoding on a copying workload (real engine, stories260K)", () => {
  let off: ModelTestServer | undefined;
  let on: ModelTestServer | undefined;
  let workload: CopyWorkload;
  let expected: Completion;

  beforeAll(async () => {
    off = await startModelServer({ speculative: "off" });
    const url = off.url;
    workload = await buildCopyWorkload(
      async (prompt, tokens) => (await completeGreedy(url, prompt, tokens)).text,
      {
        maxTokens,
      },
    );
    expected = await completeGreedy(url, workload.prompt, maxTokens);
    await off.dispose();
    off = undefined;
    on = await startModelServer({ speculative: "auto" });
  }, 120_000);
  afterAll(async () => {
    await off?.dispose();
    await on?.dispose();
  });

  it("finds a passage the model copies: its greedy continuation of the prompt is the passage", () => {
    expect(workload.isFixedPoint).toBe(true);
    expect(expected.text).toBe(workload.passage);
    expect(workload.prompt).toBe(workload.start + workload.passage + workload.separator + workload.start);
  });

  it("gives the same greedy text with speculation, accepting at least 90 % of the drafted tokens", async () => {
    const copy = await completeGreedy(on!.url, workload.prompt, maxTokens);
    expect(copy.text).toBe(expected.text);
    expect(copy.drafted).toBeGreaterThanOrEqual(maxTokens / 2);
    expect(copy.accepted! / copy.drafted!).toBeGreaterThanOrEqual(0.9);
  });
});

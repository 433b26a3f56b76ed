/**
 * Loading stories260K logs no warning for the special tokens its GGUF names but lacks: one
 * debug line per load says so instead of two llama.cpp warnings on every load (issue #10).
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/index.js";
import { LlamaCppEngine } from "../../src/engine/index.js";
import { waitFor } from "../support/wait-for.js";
import { storiesPath } from "./helpers.js";

describe("runner log on load", () => {
  it("says once, at debug level, that the model lacks some special tokens", async () => {
    const lines: { level: string; message: string }[] = [];
    const logger = createLogger("debug", (line) =>
      lines.push(JSON.parse(line) as { level: string; message: string }),
    );
    const engine = new LlamaCppEngine({ logger });
    const runner = await engine.load({
      name: "stories260K",
      path: storiesPath,
      contextTokens: 512,
      parallel: 1,
      threads: 1,
      gpu: "cpu",
      loadTimeoutMs: 60_000,
    });
    // The runner's log lines travel beside the load's answer and may land just after it.
    const isAboutSpecialTokens = (line: { message: string }): boolean => /special token/.test(line.message);
    await waitFor(() => lines.some(isAboutSpecialTokens), "the special-token log line", 10_000);
    await runner.dispose();
    const aboutSpecialTokens = lines.filter(isAboutSpecialTokens);
    expect(aboutSpecialTokens.map((line) => line.level)).toEqual(["debug"]);
    expect(aboutSpecialTokens[0]?.message).toMatch(/tokenizer\.ggml\.padding_token_id/);
    expect(lines.filter((line) => line.level === "warn")).toEqual([]);
  });
});

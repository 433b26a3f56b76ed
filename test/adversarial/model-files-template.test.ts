/**
 * Chat templates that would hang a runner (#15 §1): one that loops without end is refused before
 * any runner loads, within the render deadline (2 s) plus the check worker's start; one that
 * recurses fails inside the Jinja renderer at once and never hangs anything. A 50 MB template is
 * in model-files-header.test.ts (the metadata string limit).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemTime } from "../../src/core/index.js";
import { writeGguf, type WriteGgufOptions } from "../../src/gguf/index.js";
import { checkChatTemplate } from "../../src/models/index.js";
import {
  expectHealthy,
  expectRefused,
  refusalBoundMs,
  startHostileModelServer,
  validContents,
  type HostileModelServer,
} from "./model-files.testing.js";

const endlessLoop = "{% for i in range(100000000000) %}{{ i }}{% endfor %}";
const nestedLoops =
  "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}x{% endfor %}{% endfor %}{% endfor %}";
const selfCall = "{% macro f(g) %}{{ g(g) }}{% endmacro %}{{ f(f) }}";
const plain =
  "{% for message in messages %}<|{{ message.role }}|>{{ message.content }}{% endfor %}<|assistant|>";

function withTemplate(template: string): WriteGgufOptions {
  const others = validContents.keyValues.filter((entry) => entry.key !== "tokenizer.chat_template");
  return {
    ...validContents,
    keyValues: [...others, { key: "tokenizer.chat_template", type: "string", value: template }],
  };
}

const checkOptions = { time: systemTime, renderTimeoutMs: 2_000, maxHeapMb: 64, logger: silentLogger };

describe("the chat template check", () => {
  it("passes a plain template, and one that recurses until the renderer's stack overflows (it throws; nothing hangs)", async () => {
    expect(await checkChatTemplate(plain, checkOptions)).toEqual({ kind: "ok" });
    expect(await checkChatTemplate(selfCall, checkOptions)).toEqual({ kind: "ok" });
  });

  it("stops an endless loop and nested loops at the deadline or the heap limit", async () => {
    for (const template of [endlessLoop, nestedLoops]) {
      const startedMs = systemTime.monotonicNow();
      const result = await checkChatTemplate(template, { ...checkOptions, renderTimeoutMs: 500 });
      // Which comes first depends on the machine's speed: the deadline, or the 64 MB heap the
      // loop's output fills (the check's child dies of it alone; this process lives on).
      expect(["timeout", "out-of-memory"]).toContain(result.kind);
      expect(systemTime.monotonicNow() - startedMs).toBeLessThan(refusalBoundMs);
    }
  });
});

describe("models with hostile chat templates", () => {
  let test: HostileModelServer;

  beforeAll(async () => {
    test = await startHostileModelServer();
    await writeGguf(join(test.modelsDir, "looping-template.gguf"), withTemplate(endlessLoop));
    await writeGguf(join(test.modelsDir, "nested-template.gguf"), withTemplate(nestedLoops));
    await writeGguf(join(test.modelsDir, "recursive-template.gguf"), withTemplate(selfCall));
  });
  afterAll(async () => test?.dispose());

  it("an endless loop: 422 naming the template and the deadline or heap limit it hit, no runner started", async () => {
    for (const model of ["looping-template", "nested-template"]) {
      await expectRefused(test, model, {
        status: 422,
        code: "model-invalid",
        message: new RegExp(
          `Model file ${model}\\.gguf cannot be served: its chat template \\("tokenizer\\.chat_template"\\) (did not finish rendering a four-message test conversation within 2000 ms|ran out of memory \\(over 256 MB\\))`,
        ),
      });
    }
  });

  it("a recursive template: node-llama-cpp falls back from it, the chat request is answered (runner load included)", async () => {
    const startedMs = systemTime.monotonicNow();
    const response = await fetch(`${test.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "recursive-template",
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 4,
      }),
    });
    const body = (await response.json()) as { choices: { finish_reason: string }[] };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.choices[0]!.finish_reason).toBe("length");
    // Bounded: a runner load on a busy CI box, not a hang until the test times out.
    expect(systemTime.monotonicNow() - startedMs).toBeLessThan(90_000);
  });

  it("leaves the server healthy", async () => {
    await expectHealthy(test);
  });
});

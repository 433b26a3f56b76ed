import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const timeRules = new Set([
  "no-restricted-globals",
  "no-restricted-properties",
  "no-restricted-syntax",
  "no-restricted-imports",
]);

/** The repository's lint config, its time rules only and without type information (fast). */
const eslint = new ESLint({
  cwd: root,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => timeRules.has(ruleId),
});

async function timeProblems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => `${message.line}:${message.ruleId}`);
}

const rawTime = [
  "import { setTimeout as wait } from 'node:timers/promises';",
  "export const a = Date.now();",
  "export const b = performance.now();",
  "export const c = new Date();",
  "export const d = setTimeout(() => undefined, 1);",
  "clearTimeout(d); setInterval(() => undefined, 1); clearInterval(undefined); setImmediate(() => undefined);",
  "export const e = globalThis.setTimeout;",
  "export const f = new Date(0).toISOString() + String(wait);",
].join("\n");

describe("the time-port lint rule", () => {
  it("flags every raw clock reading, timer and timers import in src/ and test/", async () => {
    const expected = [
      "1:no-restricted-imports",
      "2:no-restricted-properties",
      "3:no-restricted-properties",
      "4:no-restricted-syntax",
      "5:no-restricted-globals",
      "6:no-restricted-globals",
      "6:no-restricted-globals",
      "6:no-restricted-globals",
      "6:no-restricted-globals",
      "7:no-restricted-properties",
    ];
    expect(await timeProblems(rawTime, "src/ops/example.ts")).toEqual(expected);
    expect(await timeProblems(rawTime, "test/e2e/example.test.ts")).toEqual(expected);
  });

  it("lets the time port's own implementation touch the real clocks", async () => {
    expect(await timeProblems(rawTime, "src/core/time.ts")).toEqual([]);
    // The exemption is for time only: the folder's import boundary still holds there.
    expect(await timeProblems("export * from '../scheduler/index.js';", "src/core/time.ts")).toEqual([
      "1:no-restricted-imports",
    ]);
  });
});

/**
 * The shell in Chromium against a real server with FakeEngine: served at / with a strict CSP (no
 * violation on the page), model output rendered as text, and no serious axe-core violation.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../e2e/helpers.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.testing.js";

const hostile =
  'Look: <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> **bold**';
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeResult {
  passes: unknown[];
  violations: { id: string; impact: string; nodes: unknown[] }[];
}

let test: TestServer;
let browser: TestBrowser;

beforeAll(async () => {
  test = await startTestServer({ models: { alpha: { reply: hostile } } });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await test?.dispose();
});

async function openShell(page: Page): Promise<void> {
  await page.goto(`${test.url}/`);
  await page.locator("#tab-chat").waitFor();
}

describe("the shell at /", () => {
  it("serves the page to browsers with a strict CSP and the text banner to everyone else", async () => {
    const html = await fetch(`${test.url}/`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/text\/html/);
    expect(html.headers.get("cache-control")).toBe("no-cache");
    const csp = html.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const page = await html.text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${test.url}${asset}`);
    expect(script.headers.get("cache-control")).toMatch(/max-age=31536000, immutable/);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    // Ollama clients probe `/` without Accept: text/html.
    const probe = await fetch(`${test.url}/`);
    expect(probe.headers.get("content-type")).toMatch(/text\/plain/);
    expect(await probe.text()).toBe("RawrXD is running");
    expect((await fetch(`${test.url}/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it("loads without console errors or CSP violations and shows the panels of a local admin", async () => {
    const { page, errors } = await browser.page();
    await openShell(page);
    await expect
      .poll(() => page.locator("header nav button").allTextContents())
      .toEqual(["Chat", "Models", "Operations"]);
    expect(await page.locator("#identity").textContent()).toMatch(/no key needed/);
    expect(errors).toEqual([]);
  });

  it("renders a model answer with <script> and <img onerror> as text, never as HTML", async () => {
    const { page, errors } = await browser.page();
    await openShell(page);
    await expect.poll(() => page.locator("#chat-model").inputValue()).toBe("alpha");
    await page.locator("#prompt").fill("say something nasty");
    await page.locator("#prompt").press("Enter");
    const answer = page.locator(".message.assistant[data-state='done'] .answer");
    await answer.waitFor({ timeout: 20_000 });
    const text = await answer.textContent();
    expect(text).toContain("<script>");
    expect(text).toContain("<img src=x onerror=");
    expect(await answer.locator("script, img").count()).toBe(0);
    expect(await answer.locator("strong").textContent()).toBe("bold");
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(await page.locator(".message.assistant .figures").textContent()).toMatch(
      /First token .* tokens\/s/,
    );
    expect(errors).toEqual([]);
    await screenshot(page, "chat-fake-engine");
    // Conversations live in IndexedDB: a reload brings this one back, still as text.
    await page.reload();
    await expect
      .poll(() => page.locator(".message.assistant .answer").first().textContent())
      .toContain("<script>");
    expect(await page.locator(".conversations li").count()).toBe(1);
  });

  it("names a model file that failed validation, and why", async () => {
    writeFileSync(join(test.modelsDir, "broken.gguf"), "this is not a GGUF file");
    const { page } = await browser.page();
    await openShell(page);
    await page.locator("#tab-models").click();
    await expect
      .poll(() => page.locator("#invalid-models").textContent())
      .toMatch(/broken\.gguf.*not a valid GGUF/);
    expect(await page.locator("#invalid-models").textContent()).not.toContain(test.modelsDir);
  });

  it("has no serious or critical axe-core violation on any panel, light or dark", async () => {
    for (const colorScheme of ["light", "dark"] as const) {
      const { page } = await browser.page({ colorScheme });
      await openShell(page);
      for (const tab of ["chat", "models", "operations"]) {
        await page.locator(`#tab-${tab}`).click();
        await page.locator(`#panel-${tab}`).waitFor();
        // Through the DevTools protocol, which the page's CSP does not govern (it forbids inline script).
        if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(axeSource);
        const result = await page.evaluate(async () => {
          const { axe } = globalThis as unknown as {
            axe: { run: (context: unknown, options: unknown) => Promise<AxeResult> };
          };
          const outcome = await axe.run((globalThis as unknown as { document: unknown }).document, {
            resultTypes: ["violations"],
          });
          return {
            passes: outcome.passes.length,
            violations: outcome.violations.map((violation) => ({
              id: violation.id,
              impact: violation.impact,
              nodes: violation.nodes.length,
            })),
          };
        });
        expect(result.passes, "axe-core ran").toBeGreaterThan(0);
        const { violations } = result;
        const serious = violations.filter(
          (violation) => violation.impact === "serious" || violation.impact === "critical",
        );
        expect(serious, `${tab} (${colorScheme}): ${JSON.stringify(serious)}`).toEqual([]);
      }
    }
  });
});

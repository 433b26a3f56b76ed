/**
 * The Workspace panel in Chromium against a real server with FakeEngine (the FIM route itself runs
 * on the real engine in test/model/fim.test.ts): open a file, type, a ghost completion arrives,
 * typing again cancels the one in flight, Tab accepts, save writes the file; explain and edit the
 * selection; a save after the file changed on disk shows the conflict; traversal refused with 4xx.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerEvents } from "../../src/core/index.js";
import { startTestServer, type TestServer } from "../e2e/helpers.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.testing.js";

const completion = "a + b;";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const original = "export function add(a, b) {\n  return \n}\n";
let folder: string;
let outside: string;
let test: TestServer;
let browser: TestBrowser;
const ends: ServerEvents["request-end"][] = [];

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "rawrxd-ws-browser-"));
  outside = mkdtempSync(join(tmpdir(), "rawrxd-ws-browser-outside-"));
  mkdirSync(join(folder, "src"));
  writeFileSync(join(folder, "src", "math.ts"), original);
  writeFileSync(join(folder, "notes.md"), "first line\nsecond line\n");
  writeFileSync(join(outside, "secret.txt"), "outside secret\n");
  symlinkSync(join(outside, "secret.txt"), join(folder, "leak.txt"));
  // Each word takes 150 ms: a completion is in flight long enough for the next keystroke to cancel it.
  test = await startTestServer({
    models: { coder: { reply: completion, tokenDelayMs: 150 } },
    flags: { workspace: folder },
  });
  test.server.events.on("request-end", (event) => ends.push(event));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await test?.dispose();
  rmSync(folder, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** Serious or critical axe-core violations on the page (injected through DevTools, not the page's CSP). */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as {
      document: unknown;
      axe: {
        run: (
          context: unknown,
          options: unknown,
        ) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
      };
    };
    const outcome = await axe.run(document, { resultTypes: ["violations"] });
    return outcome.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => `${violation.id} (${violation.nodes.length})`);
  });
}

async function openFile(page: Page, path: string): Promise<void> {
  await page.goto(`${test.url}/#workspace`);
  await page.locator("#tab-workspace").click();
  await page.locator(`.file-tree button[data-path="${path}"]`).click();
  await expect.poll(() => page.locator("#open-file").textContent()).toBe(path);
}

/** The editor's lines (locators pierce the .editor-host's shadow root, where CodeMirror lives). */
async function editorText(page: Page): Promise<string> {
  return (await page.locator(".cm-content .cm-line").allTextContents()).join("\n");
}

describe("the Workspace panel", () => {
  it("shows a ghost completion while typing, cancels the superseded one, accepts it with Tab and saves it", async () => {
    const { page, errors } = await browser.page();
    await openFile(page, "src/math.ts");
    await expect.poll(() => editorText(page)).toBe(original);
    // The cursor to the end of "  return ".
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("End");
    await page.keyboard.type("x");
    // The first completion is running on the server when the next keystroke comes.
    await expect.poll(() => page.locator("#ghost-status").textContent()).toBe("Completing…");
    await page.keyboard.press("Backspace");
    await expect
      .poll(() => page.locator(".cm-ghost-text").textContent(), { timeout: 10_000 })
      .toBe(completion);
    expect(ends.filter((end) => end.outcome === "cancelled").length).toBeGreaterThanOrEqual(1);
    await screenshot(page, "workspace-ghost");
    await page.keyboard.press("Tab");
    await expect.poll(() => page.locator(".cm-ghost-text").count()).toBe(0);
    expect(await editorText(page)).toContain(`  return ${completion}`);
    expect(await page.locator("#open-file").textContent()).toBe("src/math.ts •");
    await page.keyboard.press("Control+s");
    await expect.poll(() => page.locator("#workspace-status").textContent()).toBe("Saved src/math.ts");
    expect(readFileSync(join(folder, "src", "math.ts"), "utf8")).toBe(
      `export function add(a, b) {\n  return ${completion}\n}\n`,
    );
    expect(errors).toEqual([]);
  });

  it("explains the selection into the side panel and proposes an edit as a diff to accept", async () => {
    const { page, errors } = await browser.page();
    await openFile(page, "notes.md");
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+a");
    await page.locator("#explain-selection").click();
    await expect.poll(() => page.locator("#explanation").textContent(), { timeout: 10_000 }).toBe(completion);
    await page.locator("#edit-selection").click();
    await page.locator("#edit-instruction").fill("make it shorter");
    await page.getByRole("button", { name: "Propose" }).click();
    await page.locator("#accept-edit").waitFor({ timeout: 10_000 });
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.locator(".diff-added").allTextContents()).toEqual([`+${completion}`]);
    expect(await page.locator(".diff-removed").count()).toBeGreaterThan(0);
    await screenshot(page, "workspace-edit-diff");
    await page.locator("#accept-edit").click();
    expect(await editorText(page)).toBe(completion);
    expect(errors).toEqual([]);
  });

  it("says so when the file changed on disk since it was opened, shows the diff and can reload (dark)", async () => {
    const { page } = await browser.page({ colorScheme: "dark" });
    await openFile(page, "notes.md");
    writeFileSync(join(folder, "notes.md"), "changed elsewhere\n");
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("mine");
    await page.locator("#save-file").click();
    await expect
      .poll(() => page.locator("#workspace-status").textContent())
      .toBe("Not saved: the file changed on disk since it was opened.");
    await expect.poll(() => page.locator(".assist [role=alert]").textContent()).toMatch(/changed on disk/);
    expect(await page.locator(".diff-removed").allTextContents()).toContain("−changed elsewhere");
    // With the ghost text of "mine" shown too: its colour must keep its contrast in the dark scheme.
    await page.locator(".cm-ghost-text").waitFor({ timeout: 10_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "workspace-conflict");
    expect(readFileSync(join(folder, "notes.md"), "utf8")).toBe("changed elsewhere\n");
    await page.locator("#reload").click();
    await expect.poll(() => editorText(page)).toBe("changed elsewhere\n");
  });

  it("creates a new file in an existing folder, lists and opens it, and never over an existing one", async () => {
    const { page } = await browser.page();
    await page.goto(`${test.url}/#workspace`);
    await page.locator("#tab-workspace").click();
    await page.locator("#new-file-path").fill("src/extra.ts");
    await page.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => page.locator("#open-file").textContent()).toBe("src/extra.ts");
    expect(readFileSync(join(folder, "src", "extra.ts"), "utf8")).toBe("");
    await page.locator('.file-tree button[data-path="src/extra.ts"]').waitFor();
    await page.locator("#new-file-path").fill("notes.md");
    await page.getByRole("button", { name: "Create" }).click();
    await expect
      .poll(() => page.locator("#workspace-status").textContent())
      .toMatch(/^Not created: .*already exists/);
  });

  it("refuses traversal through the API with a 4xx", async () => {
    const { page } = await browser.page();
    await page.goto(`${test.url}/`);
    const statuses = await page.evaluate(async () => {
      const paths = ["../secret.txt", "%2e%2e%2fsecret.txt", "/etc/passwd", "leak.txt"];
      const results: number[] = [];
      for (const path of paths) results.push((await fetch(`/v1/workspace/file?path=${path}`)).status);
      const write = await fetch("/v1/workspace/file", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: "leak.txt", content: "overwritten", base_sha256: null }),
      });
      results.push(write.status);
      return results;
    });
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("outside secret\n");
  });
});

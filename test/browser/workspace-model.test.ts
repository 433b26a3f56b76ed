/**
 * The Workspace panel on the real engine: a synthetic model with fill-in-the-middle tokens in its
 * GGUF metadata (src/gguf/fim-model-writer.ts; random weights, so the text is noise) answers the
 * editor's /infill requests; the ghost text arrives, Tab accepts it and the save writes it to disk.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticModelShapes, writeFimModel } from "../../src/gguf/index.js";
import { startModelServer, type ModelTestServer } from "../model/helpers.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.testing.js";

const original = "def add(a, b):\n    return \n\nprint(add(1, 2))\n";
let folder: string;
let test: ModelTestServer;
let browser: TestBrowser;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "rawrxd-ws-model-"));
  writeFileSync(join(folder, "add.py"), original);
  test = await startModelServer({ workspace: folder, parallel: "1" });
  await writeFimModel(join(test.modelsDir, "coder.gguf"), { ...syntheticModelShapes.tiny, name: "coder" });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await test?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

describe("the Workspace panel on the real engine", () => {
  it("completes at the cursor through /infill with the model's FIM tokens; Tab accepts; save writes it", async () => {
    const { page, errors } = await browser.page();
    await page.goto(`${test.url}/#workspace`);
    await page.locator("#tab-workspace").click();
    await page.locator('.file-tree button[data-path="add.py"]').click();
    await expect.poll(() => page.locator("#open-file").textContent()).toBe("add.py");
    // The model with FIM tokens is chosen over stories260K (which has none).
    await expect.poll(() => page.locator("#workspace-model").inputValue()).toBe("coder");
    expect(await page.locator("#workspace-model option").allTextContents()).toEqual([
      "coder",
      "stories260K (no FIM)",
    ]);
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("End");
    await page.keyboard.type("a");
    const ghost = page.locator(".cm-ghost-text");
    await ghost.waitFor({ timeout: 60_000 });
    const suggestion = (await ghost.textContent()) ?? "";
    expect(suggestion.trim()).not.toBe("");
    await screenshot(page, "workspace-real-engine-ghost");
    await page.keyboard.press("Tab");
    await expect.poll(() => page.locator("#open-file").textContent()).toBe("add.py •");
    await page.locator("#save-file").click();
    await expect.poll(() => page.locator("#workspace-status").textContent()).toBe("Saved add.py");
    expect(readFileSync(join(folder, "add.py"), "utf8")).toBe(
      original.replace("    return \n", `    return a${suggestion}\n`),
    );
    expect(errors).toEqual([]);
  });
});

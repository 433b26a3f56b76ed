/**
 * Browser-test helpers: Debian's Chromium (never a downloaded browser) driven by playwright-core,
 * a fresh profile per launch, a 1280×720 page, screenshots into test-artifacts/ (git-ignored).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const chromiumPath = process.env["RAWRXD_CHROMIUM"] ?? "/usr/bin/chromium";
export const artifactsDir = resolve(process.cwd(), "test-artifacts");

export interface TestBrowser {
  browser: Browser | BrowserContext;
  /** A new page at 1280×720 (a laptop screen); console errors are collected. */
  page(options?: { colorScheme?: "light" | "dark" }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // chromium.launch gives every launch a fresh, empty profile of its own (a temp --user-data-dir).
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async page(options = {}) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 720 },
        colorScheme: options.colorScheme ?? "light",
      });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      return { page, errors };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** Saves a full-page screenshot as test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

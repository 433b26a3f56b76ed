/**
 * Access and keyboard in Chromium (FakeEngine): with keys required the page asks for one; a user
 * key sees no admin panel or control and the server refuses their routes anyway; an admin key
 * sees everything; Escape stops a streaming answer (cancelled on the server).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, waitFor, type TestServer } from "../e2e/helpers.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.testing.js";

const adminKey = "browser-admin-key";
let test: TestServer;
let browser: TestBrowser;
let userKey: string;

beforeAll(async () => {
  test = await startTestServer({
    models: {
      slow: { tokenDelayMs: 50, reply: Array.from({ length: 400 }, (_, index) => `word${index}`).join(" ") },
    },
    flags: { "api-keys": adminKey, "auth-failures-per-minute": "0" },
  });
  const made = await postJson(
    `${test.url}/v1/admin/keys`,
    { name: "browser-user", role: "user" },
    {
      headers: { authorization: `Bearer ${adminKey}` },
    },
  );
  userKey = ((await made.json()) as { key: string }).key;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await test?.dispose();
});

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${test.url}/`);
  await page.locator("#api-key").waitFor();
  await page.locator("#api-key").fill(key);
  await page.locator("#api-key").press("Enter");
  await page.locator("#tab-chat").waitFor();
}

/** A fetch from inside the page, with the key the page keeps in session storage. */
async function statusFromPage(page: Page, path: string): Promise<number> {
  return page.evaluate(async (target) => {
    const scope = globalThis as unknown as { sessionStorage: { getItem(name: string): string | null } };
    const key = scope.sessionStorage.getItem("rawrxd.apiKey") ?? "";
    return (await fetch(target, { headers: { authorization: `Bearer ${key}` } })).status;
  }, path);
}

describe("access", () => {
  it("asks for a key, and refuses a wrong one with the server's message", async () => {
    const { page } = await browser.page();
    await page.goto(`${test.url}/`);
    await page.locator("#api-key").waitFor();
    expect(await page.locator("header nav button").count()).toBe(0);
    await screenshot(page, "sign-in");
    await page.locator("#api-key").fill("not-a-key");
    await page.locator("#sign-in").click();
    await expect.poll(() => page.locator(".sign-in [role=alert]").textContent()).toMatch(/Invalid API key/);
  });

  it("hides admin panels and controls from a user key; the server refuses their routes anyway", async () => {
    const { page } = await browser.page();
    await signIn(page, userKey);
    await expect.poll(() => page.locator("header nav button").allTextContents()).toEqual(["Chat", "Models"]);
    expect(await page.locator("#identity").textContent()).toMatch(/\(user\)/);
    await page.locator("#tab-models").click();
    await page.locator("#library tr[data-model='slow']").waitFor();
    expect(await page.locator("#library button").count()).toBe(0);
    expect(await page.locator("#pull-source").count()).toBe(0);
    for (const path of ["/v1/metrics", "/v1/audit", "/v1/gpu", "/v1/admin/keys", "/v1/model-files"])
      expect(await statusFromPage(page, path), path).toBe(403);
    expect(await statusFromPage(page, "/v1/models")).toBe(200);
    await screenshot(page, "models-user-key");
  });

  it("shows every panel to an admin key", async () => {
    const { page } = await browser.page();
    await signIn(page, adminKey);
    await expect
      .poll(() => page.locator("header nav button").allTextContents())
      .toEqual(["Chat", "Models", "Operations"]);
    expect(await statusFromPage(page, "/v1/metrics")).toBe(200);
  });
});

describe("operations", () => {
  it("cancels a running request from the queue table", async () => {
    const { page } = await browser.page();
    await signIn(page, adminKey);
    await page.locator("#tab-operations").click();
    const id = "cancel-from-queue";
    const stream = postJson(
      `${test.url}/v1/chat/completions`,
      { model: "slow", stream: true, messages: [{ role: "user", content: "long" }] },
      { headers: { authorization: `Bearer ${adminKey}`, "x-request-id": id } },
    ).then((response) => response.text());
    await page.getByRole("button", { name: `Cancel ${id}`, exact: true }).click({ timeout: 15_000 });
    await expect
      .poll(() => page.locator("#panel-operations [role=status]").textContent())
      .toMatch(/cancelled/);
    const text = await stream;
    expect(text).not.toContain("word399");
    await screenshot(page, "operations-admin-key");
  });
});

describe("keyboard", () => {
  it("Enter sends and Escape stops: the request ends cancelled on the server", async () => {
    const { page } = await browser.page();
    await signIn(page, adminKey);
    await expect.poll(() => page.locator("#chat-model").inputValue()).toBe("slow");
    await page.locator("#prompt").fill("go on");
    await page.locator("#prompt").press("Enter");
    const answer = page.locator(".message.assistant").last();
    await expect.poll(() => answer.locator(".answer").textContent()).toMatch(/word3/);
    await page.keyboard.press("Escape");
    await expect.poll(() => answer.getAttribute("data-state")).toBe("stopped");
    const requestId = await answer.getAttribute("data-request-id");
    const log = await waitFor(
      async () => {
        const body = (await (
          await fetch(`${test.url}/v1/metrics/requests`, { headers: { authorization: `Bearer ${adminKey}` } })
        ).json()) as { requests: { request_id: string; outcome: string; completion_tokens: number }[] };
        return body.requests.find((entry) => entry.request_id === requestId);
      },
      "the stopped request in the request log",
      10_000,
    );
    expect(log.outcome).toBe("cancelled");
    expect(log.completion_tokens).toBeLessThan(400);
  });
});

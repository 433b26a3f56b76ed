/**
 * The routes the shell adds, end to end with FakeEngine: who am I, model details / files / load /
 * pin / unload (admin), the page and its assets without a key, and user keys refused elsewhere.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, type Json, type TestServer } from "./helpers.js";

const adminKey = "shell-admin-key";
let test: TestServer;
let url: string;
let userKey: string;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface Named {
  models: { name: string; expires_at?: string }[];
}

async function modelNames(path: string): Promise<string[]> {
  const body = (await (await fetch(`${url}${path}`, { headers: bearer(adminKey) })).json()) as Named;
  return body.models.map((model) => model.name);
}

beforeAll(async () => {
  test = await startTestServer({
    models: { alpha: {}, beta: {} },
    flags: { "api-keys": adminKey, "auth-failures-per-minute": "0" },
  });
  url = test.url;
  // A file that fails validation: the Models panel names it and says why.
  writeFileSync(join(test.modelsDir, "broken.gguf"), "not a gguf file at all");
  const made = await postJson(
    `${url}/v1/admin/keys`,
    { name: "browser-user", role: "user" },
    { headers: bearer(adminKey) },
  );
  userKey = ((await made.json()) as Json).key as string;
});

afterAll(async () => {
  await test?.dispose();
});

describe("GET /v1/whoami", () => {
  it("names the caller's key and role, and needs a key like the rest", async () => {
    expect((await fetch(`${url}/v1/whoami`)).status).toBe(401);
    const admin = await fetch(`${url}/v1/whoami`, { headers: bearer(adminKey) });
    expect(await admin.json()).toEqual({ key_id: "config-1", role: "admin", keys_required: true });
    const user = (await (await fetch(`${url}/v1/whoami`, { headers: bearer(userKey) })).json()) as Json;
    expect(user).toMatchObject({ role: "user", keys_required: true });
  });

  it("says no key is needed on a local server without keys", async () => {
    const open = await startTestServer();
    try {
      expect(await (await fetch(`${open.url}/v1/whoami`)).json()).toEqual({
        key_id: "anonymous-local",
        role: "admin",
        keys_required: false,
      });
    } finally {
      await open.dispose();
    }
  });
});

describe("the shell's page and assets", () => {
  it("are reachable without a key, while `/` as text and every other route still need one", async () => {
    const page = await fetch(`${url}/`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect((await fetch(`${url}/`)).status).toBe(401);
    expect((await fetch(`${url}/favicon.svg`)).status).not.toBe(401);
    // A missing asset is a 404, not a 401: the asset path is public, and nothing else behind it is.
    expect((await fetch(`${url}/assets/missing-0000.js`)).status).toBe(404);
    expect((await fetch(`${url}/assets/x.json`)).status).toBe(401);
    expect((await fetch(`${url}/v1/models`, { headers: { accept: "text/html" } })).status).toBe(401);
  });
});

describe("model routes (admin)", () => {
  it("describe a model before loading: GGUF summary and the memory estimate", async () => {
    const details = (await (
      await fetch(`${url}/v1/models/alpha/details`, { headers: bearer(adminKey) })
    ).json()) as Json;
    expect(details).toMatchObject({
      name: "alpha",
      architecture: "llama",
      chat_template: false,
      loaded: false,
    });
    expect(details.memory_estimate.total_bytes).toBeGreaterThan(0);
    expect(details.memory_estimate.weights_bytes).toBeGreaterThan(0);
  });

  it("list files that failed validation with the reason", async () => {
    const files = (await (
      await fetch(`${url}/v1/model-files`, { headers: bearer(adminKey) })
    ).json()) as Json;
    expect((files as Named).models.map((model) => model.name)).toEqual(["alpha", "beta"]);
    expect(files.invalid).toHaveLength(1);
    expect(files.invalid[0].name).toBe("broken");
    expect(files.invalid[0].error).toMatch(/GGUF|gguf/);
    expect(JSON.stringify(files)).not.toContain(test.modelsDir);
  });

  it("load, pin and unload through the scheduler", async () => {
    const load = await postJson(`${url}/v1/models/alpha/load`, {}, { headers: bearer(adminKey) });
    expect(load.status).toBe(200);
    expect(await load.json()).toMatchObject({ model: "alpha", loaded: true, pinned: false });
    expect(await modelNames("/api/ps")).toEqual(["alpha"]);

    const pin = await postJson(`${url}/v1/models/beta/pin`, {}, { headers: bearer(adminKey) });
    expect(await pin.json()).toMatchObject({ model: "beta", loaded: true, pinned: true });
    const pinned = (await (await fetch(`${url}/api/ps`, { headers: bearer(adminKey) })).json()) as Named;
    const beta = pinned.models.find((model) => model.name === "beta");
    expect(Date.parse(beta?.expires_at ?? "")).toBeGreaterThan(Date.parse("2300-01-01T00:00:00Z"));

    const unload = await postJson(`${url}/v1/models/alpha/unload`, {}, { headers: bearer(adminKey) });
    expect(await unload.json()).toEqual({ model: "alpha", unloaded: true });
    const again = await postJson(`${url}/v1/models/alpha/unload`, {}, { headers: bearer(adminKey) });
    expect(await again.json()).toEqual({ model: "alpha", unloaded: false });
    expect(await modelNames("/api/ps")).toEqual(["beta"]);
  });

  it("answer model-not-found for an unknown model", async () => {
    const response = await postJson(`${url}/v1/models/nope/load`, {}, { headers: bearer(adminKey) });
    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).toMatch(/nope/);
  });

  it("are refused to user keys, which still see the queue without other callers' requests", async () => {
    for (const [method, path] of [
      ["POST", "/v1/models/alpha/load"],
      ["POST", "/v1/models/alpha/pin"],
      ["POST", "/v1/models/alpha/unload"],
      ["GET", "/v1/models/alpha/details"],
      ["GET", "/v1/model-files"],
      ["GET", "/v1/metrics"],
      ["GET", "/v1/audit"],
    ] as const) {
      const response = await fetch(`${url}${path}`, { method, headers: bearer(userKey) });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    const queue = (await (await fetch(`${url}/v1/queue`, { headers: bearer(userKey) })).json()) as Json;
    expect(queue.requests).toBeUndefined();
    const adminQueue = (await (await fetch(`${url}/v1/queue`, { headers: bearer(adminKey) })).json()) as Json;
    expect(adminQueue.requests).toEqual([]);
  });
});

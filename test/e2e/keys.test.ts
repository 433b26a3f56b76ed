/**
 * Managed API keys and roles, end to end: `rawrxd keys` on the home of a running server, the
 * admin key routes, 401/403 on every admin route, revocation at once, and priority caps.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { startServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger, type ServerEvents } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { bodyOf, makeHome, postJson, startTestServer, waitFor, type TestServer } from "./helpers.js";

async function keysCli(
  home: string,
  args: string[],
): Promise<{ code: number; output: string; errors: string }> {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home } });
  const code = await main(["keys", ...args], io);
  return { code, output: io.output(), errors: io.errors() };
}

async function createKey(home: string, args: string[]): Promise<{ key: string; id: string }> {
  const result = await keysCli(home, ["create", ...args]);
  expect(result.code, result.errors).toBe(0);
  const key = result.output.trim();
  return { key, id: key.slice(4, 16) };
}

interface MadeKey {
  id: string;
  key: string;
  created_at: string;
}

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
const chat = { model: "alpha", messages: [{ role: "user", content: "hi" }] };

/** Every admin route of this server, as [method, path]. */
const adminRoutes: [string, string][] = [
  ["GET", "/v1/admin/keys"],
  ["POST", "/v1/admin/keys"],
  ["DELETE", "/v1/admin/keys/000000000000"],
  ["GET", "/v1/metrics"],
  ["GET", "/v1/metrics/requests"],
  ["GET", "/v1/metrics/history"],
  ["GET", "/v1/metrics/warnings"],
  ["GET", "/metrics"],
  ["GET", "/v1/gpu"],
  ["GET", "/v1/sla/status"],
  ["GET", "/v1/sla/incidents"],
  ["GET", "/v1/sla/report"],
];

describe("managed keys and roles", () => {
  let test: TestServer;
  let url: string;
  const failures: ServerEvents["auth-failed"][] = [];

  beforeAll(async () => {
    test = await startTestServer({
      models: { alpha: { reply: "one two three four five six", tokenDelayMs: 40 } },
      flags: { "auth-failures-per-minute": "0", parallel: "1", "no-preemption": "true" },
    });
    url = test.url;
    test.server.events.on("auth-failed", (event) => failures.push(event));
  });
  afterAll(async () => test.dispose());

  it("stays open locally until the first key exists, then needs one everywhere but /health", async () => {
    expect((await keysCli(test.home, ["list"])).output).toMatch(/No API keys/);
    // Clients that always send some key (the OpenAI SDK) still work while no key is defined,
    // as the anonymous local caller.
    const ended: ServerEvents["request-end"][] = [];
    const off = test.server.events.on("request-end", (event) => ended.push(event));
    expect(
      (await postJson(`${url}/v1/chat/completions`, chat, { headers: bearer("sk-anything") })).status,
    ).toBe(200);
    off();
    expect(ended.map((event) => event.apiKeyId)).toEqual(["anonymous-local"]);
    const admin = await createKey(test.home, ["--name", "ops", "--role", "admin"]);
    expect(admin.key).toMatch(/^rxd_[0-9a-f]{12}_/);
    const open = await fetch(`${url}/v1/models`);
    expect(open.status).toBe(401);
    expect((await bodyOf(open)).error.message).toMatch(/Missing API key/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/v1/models`, { headers: bearer(admin.key) })).status).toBe(200);
    const listed = await keysCli(test.home, ["list"]);
    expect(listed.output).toMatch(new RegExp(`${admin.id}\\s+ops\\s+admin\\s+high`));
    expect(listed.output).not.toContain(admin.key.slice(17));
  });

  it("every admin route answers 403 to a user key and 401 without a key", async () => {
    const user = await createKey(test.home, ["--name", "app", "--role", "user"]);
    const before = failures.length;
    for (const [method, path] of adminRoutes) {
      const anonymous = await fetch(`${url}${path}`, { method });
      expect(anonymous.status, `${method} ${path} without a key`).toBe(401);
      await anonymous.arrayBuffer();
      const denied = await fetch(`${url}${path}`, { method, headers: bearer(user.key) });
      expect(denied.status, `${method} ${path} with a user key`).toBe(403);
      await denied.arrayBuffer();
    }
    expect(failures.slice(before).filter((event) => event.reason === "forbidden")).toHaveLength(
      adminRoutes.length,
    );
    expect(failures.slice(before).find((event) => event.reason === "forbidden")).toMatchObject({
      keyId: user.id,
      sourceAddress: expect.stringMatching(/127\.0\.0\.1/),
    });
    // What a user may do.
    expect((await fetch(`${url}/v1/models`, { headers: bearer(user.key) })).status).toBe(200);
    expect((await fetch(`${url}/api/tags`, { headers: bearer(user.key) })).status).toBe(200);
    const answer = await postJson(
      `${url}/api/chat`,
      { ...chat, stream: false },
      { headers: bearer(user.key) },
    );
    expect(answer.status).toBe(200);
  });

  it("a key revoked with the CLI while the server runs stops working at once", async () => {
    const user = await createKey(test.home, ["--name", "laptop", "--role", "user"]);
    expect((await fetch(`${url}/v1/models`, { headers: bearer(user.key) })).status).toBe(200);
    const revoked = await keysCli(test.home, ["revoke", user.id]);
    expect(revoked.code).toBe(0);
    expect(revoked.output).toContain(`Revoked key ${user.id}`);
    const refused = await fetch(`${url}/v1/models`, { headers: bearer(user.key) });
    expect(refused.status).toBe(401);
    expect((await bodyOf(refused)).error.message).toContain(`${user.id} has been revoked`);
    expect(failures.at(-1)).toMatchObject({ reason: "revoked-key", keyId: user.id });
    expect((await keysCli(test.home, ["revoke", "nope"])).code).toBe(1);
  });

  it("a key capped at normal asking for high runs at normal", async () => {
    const capped = await createKey(test.home, [
      "--name",
      "batch",
      "--role",
      "user",
      "--max-priority",
      "normal",
    ]);
    const ended: ServerEvents["request-end"][] = [];
    const off = test.server.events.on("request-end", (event) => ended.push(event));
    try {
      for (const headers of [{ ...bearer(capped.key), "x-priority": "high" }, bearer(capped.key)]) {
        const response = await postJson(`${url}/v1/chat/completions`, chat, { headers });
        expect(response.status).toBe(200);
      }
      const body = await postJson(
        `${url}/v1/chat/completions`,
        { ...chat, priority: "high" },
        { headers: bearer(capped.key) },
      );
      expect(body.status).toBe(200);
      const low = await postJson(
        `${url}/api/generate`,
        { model: "alpha", prompt: "x", stream: false },
        {
          headers: { ...bearer(capped.key), "x-priority": "low" },
        },
      );
      expect(low.status).toBe(200);
      expect(ended.map((event) => event.priority)).toEqual(["normal", "normal", "normal", "low"]);
      expect(new Set(ended.map((event) => event.apiKeyId))).toEqual(new Set([capped.id]));
    } finally {
      off();
    }
  });

  it("a user key may cancel its own requests, not another key's", async () => {
    const owner = await createKey(test.home, ["--name", "owner", "--role", "user"]);
    const other = await createKey(test.home, ["--name", "other", "--role", "user"]);
    const running = postJson(`${url}/v1/chat/completions`, chat, {
      headers: { ...bearer(owner.key), "x-request-id": "owned-1" },
    });
    await waitFor(
      () => test.server.queue.snapshot().requests.some((request) => request.id === "owned-1"),
      "the owned request to be queued",
    );
    const peek = await fetch(`${url}/v1/queue/owned-1`, { headers: bearer(other.key) });
    expect(peek.status).toBe(403);
    const stolen = await fetch(`${url}/v1/requests/owned-1`, {
      method: "DELETE",
      headers: bearer(other.key),
    });
    expect(stolen.status).toBe(403);
    expect((await fetch(`${url}/v1/queue/owned-1`, { headers: bearer(owner.key) })).status).toBe(200);
    const cancelled = await fetch(`${url}/v1/requests/owned-1`, {
      method: "DELETE",
      headers: bearer(owner.key),
    });
    expect(cancelled.status).toBe(200);
    await (await running).arrayBuffer();
  });

  it("admin routes create, list and revoke keys, and say so on the event bus", async () => {
    const admin = await createKey(test.home, ["--name", "root", "--role", "admin"]);
    const created: ServerEvents["key-created"][] = [];
    const revokedEvents: ServerEvents["key-revoked"][] = [];
    test.server.events.on("key-created", (event) => created.push(event));
    test.server.events.on("key-revoked", (event) => revokedEvents.push(event));
    const response = await postJson(
      `${url}/v1/admin/keys`,
      { name: "svc", role: "user", max_priority: "low" },
      { headers: bearer(admin.key) },
    );
    expect(response.status).toBe(201);
    const made = (await bodyOf(response)) as MadeKey;
    expect(made).toMatchObject({ name: "svc", role: "user", max_priority: "low", revoked_at: null });
    expect(made.key.slice(4, 16)).toBe(made.id);
    expect(created).toEqual([
      { keyId: made.id, name: "svc", role: "user", maxPriority: "low", byKeyId: admin.id },
    ]);
    expect((await fetch(`${url}/v1/models`, { headers: bearer(made.key) })).status).toBe(200);

    const list = (await bodyOf(await fetch(`${url}/v1/admin/keys`, { headers: bearer(admin.key) }))) as {
      data: { id: string }[];
    };
    expect(list.data.find((view) => view.id === made.id)).toEqual({
      id: made.id,
      name: "svc",
      role: "user",
      max_priority: "low",
      created_at: made.created_at,
      revoked_at: null,
    });
    expect(JSON.stringify(list)).not.toContain(made.key);

    const bad = await postJson(
      `${url}/v1/admin/keys`,
      { name: "x", role: "root" },
      { headers: bearer(admin.key) },
    );
    expect(bad.status).toBe(400);
    await bad.arrayBuffer();

    const revoke = await fetch(`${url}/v1/admin/keys/${made.id}`, {
      method: "DELETE",
      headers: bearer(admin.key),
    });
    expect(revoke.status).toBe(200);
    expect((await bodyOf(revoke)).revoked_at).toEqual(expect.any(String));
    expect(revokedEvents).toEqual([{ keyId: made.id, byKeyId: admin.id }]);
    expect((await fetch(`${url}/v1/models`, { headers: bearer(made.key) })).status).toBe(401);
    const missing = await fetch(`${url}/v1/admin/keys/000000000000`, {
      method: "DELETE",
      headers: bearer(admin.key),
    });
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });
});

describe("--api-keys alongside managed keys", () => {
  it("each configured key is an admin key named config-N", async () => {
    const test = await startTestServer({ flags: { "api-keys": "first,second" } });
    try {
      const created: ServerEvents["key-created"][] = [];
      test.server.events.on("key-created", (event) => created.push(event));
      const response = await postJson(
        `${test.url}/v1/admin/keys`,
        { name: "made-by-config", role: "user" },
        { headers: bearer("second") },
      );
      expect(response.status).toBe(201);
      expect(created[0]?.byKeyId).toBe("config-2");
      const made = (await bodyOf(response)) as MadeKey;
      expect((await fetch(`${test.url}/v1/models`, { headers: bearer(made.key) })).status).toBe(200);
      expect((await fetch(`${test.url}/v1/models`, { headers: bearer("first") })).status).toBe(200);
    } finally {
      await test.dispose();
    }
  });

  it("a managed key lets a non-loopback bind start without --api-keys", async () => {
    const first = await startTestServer({ flags: {} });
    const home = first.home;
    // Reuse the home: create a key there, then start on 0.0.0.0 (the key counts as authentication).
    const ops = await createKey(home, ["--name", "ops", "--role", "admin"]);
    await first.server.close();
    const config = loadConfig({
      flags: { host: "0.0.0.0", port: "0", home, models: first.modelsDir },
      env: {},
      readConfigFile: false,
    });
    const server = await startServer(config, {
      engine: new FakeEngine({}),
      logger: silentLogger,
      handleSignals: false,
    });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/v1/models`)).status).toBe(401);
      // Revoking the last key locks an exposed server; it does not open it.
      expect((await keysCli(home, ["revoke", ops.id])).code).toBe(0);
      expect((await fetch(`http://127.0.0.1:${server.port}/v1/models`)).status).toBe(401);
    } finally {
      await server.close();
      await first.dispose();
    }
  });
});

describe("rawrxd keys command line", () => {
  it("refuses incomplete or unknown arguments with exit code 2 and creates nothing", async () => {
    const { home } = makeHome([]);
    try {
      for (const args of [
        ["create", "--name", "x"],
        ["create", "--role", "user"],
        ["create", "--name", "x", "--role", "root"],
        ["create", "--name", "x", "--role", "user", "--max-priority", "urgent"],
        ["revoke"],
        ["list", "extra"],
        ["rotate"],
        [],
      ]) {
        const result = await keysCli(home, args);
        expect(result.code, args.join(" ")).toBe(2);
        expect(result.errors).toMatch(/rawrxd keys/);
      }
      expect((await keysCli(home, ["list"])).output).toMatch(/No API keys/);
      const help = await keysCli(home, ["--help"]);
      expect(help.output).toContain("rawrxd keys create --name NAME --role admin|user");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

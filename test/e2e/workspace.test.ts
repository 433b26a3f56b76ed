/**
 * The workspace routes end to end with FakeEngine: tree, read with a version, write against that
 * version (409 when the file changed on disk), traversal refused (../, %2e%2e, absolute, links and
 * linked folders out, hidden files), size limits, admin-only with keys, and an audit record per access.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditPaths, queryAuditLog, type AuditRecord } from "../../src/ops/index.js";
import { postJson, startTestServer, type Json, type TestServer } from "./helpers.js";

const adminKey = "workspace-admin-key";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let outside: string;
let folder: string;
let test: TestServer;
let userKey: string;

function get(path: string, key = adminKey): Promise<Response> {
  return fetch(`${test.url}${path}`, { headers: bearer(key) });
}

function put(body: unknown, key = adminKey): Promise<Response> {
  return fetch(`${test.url}/v1/workspace/file`, {
    method: "PUT",
    headers: { ...bearer(key), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  outside = mkdtempSync(join(tmpdir(), "rawrxd-ws-outside-"));
  writeFileSync(join(outside, "secret.txt"), "outside secret\n");
  folder = mkdtempSync(join(tmpdir(), "rawrxd-ws-"));
  mkdirSync(join(folder, "src"));
  writeFileSync(join(folder, "src", "main.ts"), "export const answer = 42;\n");
  writeFileSync(join(folder, "README.md"), "# demo\n");
  writeFileSync(join(folder, ".env"), "TOKEN=hidden\n");
  writeFileSync(join(folder, "big.txt"), "x".repeat(5000));
  writeFileSync(join(folder, "binary.bin"), Buffer.from([0x47, 0x00, 0x01]));
  symlinkSync(join(folder, "README.md"), join(folder, "readme-link.md"));
  symlinkSync(join(outside, "secret.txt"), join(folder, "leak.txt"));
  symlinkSync(outside, join(folder, "out-dir"));
  test = await startTestServer({
    flags: {
      "api-keys": adminKey,
      "auth-failures-per-minute": "0",
      workspace: folder,
      "workspace-max-file-bytes": "4096",
    },
  });
  const made = await postJson(
    `${test.url}/v1/admin/keys`,
    { name: "ws-user", role: "user" },
    { headers: bearer(adminKey) },
  );
  userKey = ((await made.json()) as Json).key as string;
});

afterAll(async () => {
  await test?.dispose();
  rmSync(folder, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("the workspace routes", () => {
  it("names the folder (not its path) and lists the tree without hidden files or links out", async () => {
    expect(await (await get("/v1/workspace")).json()).toEqual({
      enabled: true,
      name: folder.split("/").pop(),
      max_file_bytes: 4096,
    });
    const tree = (await (await get("/v1/workspace/tree")).json()) as {
      truncated: boolean;
      entries: { type: string; path: string }[];
    };
    expect(tree.truncated).toBe(false);
    expect(tree.entries.map((entry) => `${entry.type} ${entry.path}`)).toEqual([
      "file README.md",
      "file big.txt",
      "file binary.bin",
      "file readme-link.md",
      "folder src",
      "file src/main.ts",
    ]);
  });

  it("reads a file with its version and saves against it; a stale version gets 409", async () => {
    const read = (await (await get("/v1/workspace/file?path=src/main.ts")).json()) as Json;
    expect(read).toMatchObject({
      path: "src/main.ts",
      content: "export const answer = 42;\n",
      version: { sha256: sha256("export const answer = 42;\n"), size_bytes: 26 },
    });
    const saved = await put({
      path: "src/main.ts",
      content: "export const answer = 43;\n",
      base_sha256: read.version.sha256,
    });
    expect(saved.status).toBe(200);
    const savedBody = (await saved.json()) as Json;
    expect(savedBody.version.sha256).toBe(sha256("export const answer = 43;\n"));
    expect(readFileSync(join(folder, "src", "main.ts"), "utf8")).toBe("export const answer = 43;\n");

    // Someone edits the file on disk; a save based on the old version is refused.
    writeFileSync(join(folder, "src", "main.ts"), "export const answer = 44;\n");
    const stale = await put({
      path: "src/main.ts",
      content: "mine\n",
      base_sha256: savedBody.version.sha256,
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as Json).error.message).toMatch(/changed on disk since it was opened/);
    expect(readFileSync(join(folder, "src", "main.ts"), "utf8")).toBe("export const answer = 44;\n");
  });

  it("creates a new file only with base_sha256 null, and never over an existing one", async () => {
    expect((await put({ path: "src/new.ts", content: "new\n", base_sha256: null })).status).toBe(200);
    expect(readFileSync(join(folder, "src", "new.ts"), "utf8")).toBe("new\n");
    expect((await put({ path: "src/new.ts", content: "again\n", base_sha256: null })).status).toBe(409);
    expect((await put({ path: "nowhere/new.ts", content: "x", base_sha256: null })).status).toBe(404);
  });

  it("lets one of two saves based on the same version win; the other gets 409", async () => {
    const read = (await (await get("/v1/workspace/file?path=src/new.ts")).json()) as Json;
    const statuses = await Promise.all(
      ["first\n", "second\n"].map(async (content) => {
        const response = await put({ path: "src/new.ts", content, base_sha256: read.version.sha256 });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect([...statuses].sort()).toEqual([200, 409]);
    expect(["first\n", "second\n"]).toContain(readFileSync(join(folder, "src", "new.ts"), "utf8"));
  });

  it("saves through a link inside the folder to its target", async () => {
    const read = (await (await get("/v1/workspace/file?path=readme-link.md")).json()) as Json;
    const saved = await put({
      path: "readme-link.md",
      content: "# linked\n",
      base_sha256: read.version.sha256,
    });
    expect(saved.status).toBe(200);
    expect(readFileSync(join(folder, "README.md"), "utf8")).toBe("# linked\n");
  });

  it("refuses every way out with a 4xx that names no server path", async () => {
    const attempts = [
      "../secret.txt",
      "%2e%2e%2fsecret.txt",
      "src%2F..%2F..%2Fsecret.txt",
      encodeURIComponent(join(outside, "secret.txt")),
      "leak.txt",
      "out-dir/secret.txt",
      ".env",
      "src/../.env",
      "..%5Csecret.txt",
      "%00",
    ];
    for (const attempt of attempts) {
      const response = await get(`/v1/workspace/file?path=${attempt}`);
      expect(response.status, attempt).toBeGreaterThanOrEqual(400);
      expect(response.status, attempt).toBeLessThan(500);
      const text = await response.text();
      expect(text, attempt).not.toContain("outside secret");
      expect(text, attempt).not.toContain(outside);
      expect(text, attempt).not.toContain(folder);
    }
    // The URL path itself: clients normalise `..`, the server never serves outside its routes.
    expect((await get("/v1/workspace/%2e%2e/%2e%2e/etc/passwd")).status).toBe(404);
    for (const path of [
      "../secret.txt",
      "leak.txt",
      "out-dir/secret.txt",
      "out-dir/new.txt",
      join(outside, "secret.txt"),
      ".env",
    ]) {
      const response = await put({ path, content: "overwritten", base_sha256: null });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
    }
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("outside secret\n");
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
    expect(readFileSync(join(folder, ".env"), "utf8")).toBe("TOKEN=hidden\n");
  });

  it("refuses files over --workspace-max-file-bytes (413) and binary files (400)", async () => {
    expect((await get("/v1/workspace/file?path=big.txt")).status).toBe(413);
    expect((await put({ path: "huge.txt", content: "y".repeat(5000), base_sha256: null })).status).toBe(413);
    expect((await get("/v1/workspace/file?path=binary.bin")).status).toBe(400);
    expect((await get("/v1/workspace/file?path=missing.ts")).status).toBe(404);
  });

  it("is admin-only once keys exist", async () => {
    expect((await get("/v1/workspace/tree", userKey)).status).toBe(403);
    expect((await get("/v1/workspace/file?path=README.md", userKey)).status).toBe(403);
    expect((await put({ path: "README.md", content: "x", base_sha256: null }, userKey)).status).toBe(403);
    expect((await fetch(`${test.url}/v1/workspace/tree`)).status).toBe(401);
  });

  it("leaves a data record naming the key and the path for every read, write and refusal", async () => {
    await test.server.close();
    const records: AuditRecord[] = [];
    for await (const record of queryAuditLog(auditPaths(test.home).directory)) records.push(record);
    const workspace = records.filter(
      (record) => record.type === "data" && record.action.startsWith("workspace-"),
    );
    expect(workspace).toContainEqual(
      expect.objectContaining({ action: "workspace-read", object: "src/main.ts", keyId: "config-1" }),
    );
    expect(workspace).toContainEqual(
      expect.objectContaining({
        action: "workspace-write",
        object: "src/main.ts",
        keyId: "config-1",
        details: expect.objectContaining({ sha256: sha256("export const answer = 43;\n") }),
      }),
    );
    expect(workspace).toContainEqual(
      expect.objectContaining({
        action: "workspace-write",
        object: "src/main.ts",
        details: expect.objectContaining({ outcome: "conflict" }),
      }),
    );
    expect(workspace).toContainEqual(
      expect.objectContaining({ action: "workspace-refused", object: "leak.txt", keyId: "config-1" }),
    );
    expect(workspace).toContainEqual(expect.objectContaining({ action: "workspace-list", object: "" }));
  });
});

describe("without --workspace", () => {
  it("says it has none, and the file routes answer 404 saying how to configure one", async () => {
    const open = await startTestServer();
    try {
      expect(await (await fetch(`${open.url}/v1/workspace`)).json()).toEqual({
        enabled: false,
        message: expect.stringMatching(/--workspace DIR/),
      });
      const response = await fetch(`${open.url}/v1/workspace/tree`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as Json).error.message).toMatch(/--workspace DIR/);
    } finally {
      await open.dispose();
    }
  });
});

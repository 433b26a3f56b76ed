/**
 * Keys across real servers with --store (issue #18 item 4): an admin key made with
 * `rawrxd keys create --store`, a user key made through one server's admin API that works on the
 * other, and revoked through the other's admin API: refused by the first within a second.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { systemTime } from "../../src/core/index.js";
import { postJson, type Json } from "../e2e/helpers.js";
import { waitFor } from "../support/wait-for.js";
import { startStoreServer, StoreFixture } from "./store.testing.js";

const fixture = new StoreFixture();
beforeAll(() => fixture.start());
afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

const chat = { model: "alpha", messages: [{ role: "user", content: "hi" }] };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function cli(home: string, args: string[]) {
  const io = createRecordingIo({ env: { RAWRXD_HOME: home, RAWRXD_NO_AUDIT: "1" } });
  const code = await main(args, io, { time: systemTime });
  return { code, output: io.output(), errors: io.errors() };
}

/** A user key's answer on a cheap user route (model list): 200 valid, 401 refused. */
async function keyStatus(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/models`, { headers: bearer(key) });
  await response.text();
  return response.status;
}

describe("keys across two servers on one PostgreSQL", () => {
  it("CLI admin key, user key made on A works on B, revoked on B is refused on A within 1 s", async () => {
    const url = fixture.database("servers_keys");
    const cliHome = mkdtempSync(`${tmpdir()}/rawrxd-store-cli-`);
    fixture.cleanups.push(() => rmSync(cliHome, { recursive: true, force: true }));
    const created = await cli(cliHome, [
      "keys",
      "create",
      "--name",
      "ops",
      "--role",
      "admin",
      "--store",
      url,
    ]);
    expect(created.code).toBe(0);
    const admin = created.output.trim();

    const a = await startStoreServer(url);
    const b = await startStoreServer(url);
    for (const node of [a, b]) {
      fixture.cleanups.push(async () => {
        await node.server.close();
        rmSync(node.home, { recursive: true, force: true });
      });
    }
    // Keys exist, so both refuse a request without one.
    expect((await postJson(`${b.server.url}/v1/chat/completions`, chat)).status).toBe(401);

    const made = await postJson(
      `${a.server.url}/v1/admin/keys`,
      { name: "app", role: "user" },
      { headers: bearer(admin) },
    );
    expect(made.status).toBe(201);
    const { id, key } = (await made.json()) as Json;
    // The user key also runs inference on B.
    await waitFor(
      async () => (await keyStatus(b.server.url, key as string)) === 200,
      "the user key on B",
      1000,
    );

    const revoked = await fetch(`${b.server.url}/v1/admin/keys/${id as string}`, {
      method: "DELETE",
      headers: bearer(admin),
    });
    expect(revoked.status).toBe(200);
    await waitFor(
      async () => (await keyStatus(a.server.url, key as string)) === 401,
      "A refusing the key",
      1000,
    );

    const listed = await cli(cliHome, ["keys", "list", "--store", url]);
    expect(listed.code).toBe(0);
    expect(listed.output).toMatch(/app\s+user/);
    // Its REVOKED column is filled (the row has one more field than the admin key's).
    const fields = (name: string) =>
      listed.output
        .split("\n")
        .find((line) => line.includes(` ${name} `))
        ?.trim()
        .split(/\s{2,}/).length;
    expect(fields("app")).toBe(fields("ops")! + 1);
  });

  it("keys --store with PostgreSQL unreachable fails with a clear message", async () => {
    const cliHome = mkdtempSync(`${tmpdir()}/rawrxd-store-cli-`);
    fixture.cleanups.push(() => rmSync(cliHome, { recursive: true, force: true }));
    const result = await cli(cliHome, ["keys", "list", "--store", "postgres://rawrxd@127.0.0.1:1/none"]);
    expect(result.code).not.toBe(0);
    expect(result.errors).toMatch(/Cannot reach the PostgreSQL store given with --store/);
  });
});

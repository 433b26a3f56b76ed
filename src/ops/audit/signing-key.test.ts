import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateSigningKey, publicKeyId, readPublicKey } from "./signing-key.js";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function keyPath(): string {
  const folder = mkdtempSync(join(tmpdir(), "rawrxd-signing-key-"));
  folders.push(folder);
  return join(folder, "audit-key", "ed25519.pem");
}

describe("loadOrCreateSigningKey", () => {
  it("creates a private key (0600) with its public key beside it, and loads the same key again", async () => {
    const path = keyPath();
    const created = await loadOrCreateSigningKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(publicKeyId(await readPublicKey(`${path}.pub`))).toBe(created.keyId);
    expect((await loadOrCreateSigningKey(path)).keyId).toBe(created.keyId);
  });

  it("refuses a public key without its private key (a restored folder) and leaves the public key as it was", async () => {
    const path = keyPath();
    const original = await loadOrCreateSigningKey(path);
    const publicPem = readFileSync(`${path}.pub`, "utf8");
    unlinkSync(path);
    await expect(loadOrCreateSigningKey(path)).rejects.toThrow(
      new RegExp(
        `private key is missing but its public key .*ed25519\\.pem\\.pub is there \\(key ${original.keyId}`,
      ),
    );
    expect(readFileSync(`${path}.pub`, "utf8")).toBe(publicPem);
  });
});

import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChunkCorruptError, ChunkStore, chunkId } from "./chunk-store.js";

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "rawrxd-chunks-"));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

describe("ChunkStore", () => {
  it("stores each chunk once under chunks/ab/abcdef… and reads it back", async () => {
    const store = new ChunkStore({ directory });
    const data = Buffer.from("hello chunk");
    const first = await store.put(data);
    const second = await store.put(data);
    expect(first.id).toBe(chunkId(data));
    expect(first.storedBytes).toBe(data.length);
    expect(second.storedBytes).toBe(0);
    expect(existsSync(join(directory, "chunks", first.id.slice(0, 2), first.id))).toBe(true);
    expect((await store.get(first.id)).equals(data)).toBe(true);
    expect(await store.listIds()).toEqual([first.id]);
    expect(readdirSync(join(directory, "tmp"))).toEqual([]);
  });

  it("detects a corrupted chunk", async () => {
    const store = new ChunkStore({ directory });
    const { id } = await store.put(Buffer.from("precious"));
    writeFileSync(store.pathOf(id), "precioux");
    await expect(store.get(id)).rejects.toBeInstanceOf(ChunkCorruptError);
  });

  it("encrypts at rest with AES-256-GCM and detects tampering", async () => {
    const key = randomBytes(32);
    const store = new ChunkStore({ directory, encryptionKey: key });
    const data = Buffer.from("secret prompt hash list ".repeat(10));
    const { id } = await store.put(data);
    const body = readFileSync(store.pathOf(id));
    expect(body.includes(Buffer.from("secret prompt"))).toBe(false);
    expect((await store.get(id)).equals(data)).toBe(true);
    body[40] = body[40]! ^ 1;
    writeFileSync(store.pathOf(id), body);
    await expect(store.get(id)).rejects.toThrow(/cannot be decrypted/);
    await expect(new ChunkStore({ directory, encryptionKey: randomBytes(32) }).get(id)).rejects.toThrow(
      /decrypted/,
    );
  });

  it("a failing writer leaves no chunk file behind", async () => {
    const store = new ChunkStore({
      directory,
      writer: async (path) => {
        writeFileSync(path, "partial");
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      },
    });
    await expect(store.put(Buffer.from("data"))).rejects.toThrow(/ENOSPC/);
    expect(await store.listIds()).toEqual([]);
    expect(readdirSync(join(directory, "tmp"))).toEqual([]);
  });
});

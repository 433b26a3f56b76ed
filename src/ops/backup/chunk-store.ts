/**
 * The content-addressed chunk store under the backup folder: `chunks/ab/abcdef…`, one file per
 * distinct chunk, named by the SHA-256 of its plaintext, written to a temporary name and renamed
 * so a chunk file is either whole or absent. With an encryption key each file is AES-256-GCM
 * (12-byte nonce, 16-byte tag, ciphertext), the chunk id bound as associated data.
 */
import { execFile } from "node:child_process";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

/** Writes one file's bytes durably; injectable so tests can fill the disk. */
export type ChunkFileWriter = (path: string, data: Buffer) => Promise<void>;

export const writeFileDurably: ChunkFileWriter = async (path, data) => {
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
};

/** Writes without a sync: `ChunkStore.sync()` makes every new chunk durable at once before the manifest. */
export const writeFileQuickly: ChunkFileWriter = async (path, data) => {
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
};

export interface ChunkStoreOptions {
  /** The backup folder; chunks go in `<directory>/chunks`. */
  directory: string;
  /** 32 bytes: encrypt chunks at rest with AES-256-GCM. */
  encryptionKey?: Buffer;
  writer?: ChunkFileWriter;
}

export class ChunkCorruptError extends Error {
  override readonly name = "ChunkCorruptError";
}

export function chunkId(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export class ChunkStore {
  readonly root: string;
  readonly #key: Buffer | undefined;
  readonly #writer: ChunkFileWriter;
  readonly #tmp: string;
  #tmpCounter = 0;
  /** Chunks written since the last sync(). */
  #unsynced: string[] = [];

  constructor(options: ChunkStoreOptions) {
    this.root = join(options.directory, "chunks");
    this.#tmp = join(options.directory, "tmp");
    this.#key = options.encryptionKey;
    if (this.#key !== undefined && this.#key.length !== 32)
      throw new Error(`The backup encryption key must be 32 bytes; the key file holds ${this.#key.length}.`);
    this.#writer = options.writer ?? writeFileQuickly;
  }

  get isEncrypted(): boolean {
    return this.#key !== undefined;
  }

  pathOf(id: string): string {
    return join(this.root, id.slice(0, 2), id);
  }

  async has(id: string): Promise<boolean> {
    try {
      await stat(this.pathOf(id));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }

  /** Stores `data` unless a chunk with its id is there; returns the id and the bytes written (0 if deduplicated). */
  async put(data: Buffer, knownId?: string): Promise<{ id: string; storedBytes: number }> {
    const id = knownId ?? chunkId(data);
    if (await this.has(id)) return { id, storedBytes: 0 };
    const body = this.#seal(id, data);
    await mkdir(join(this.root, id.slice(0, 2)), { recursive: true });
    await mkdir(this.#tmp, { recursive: true });
    this.#tmpCounter += 1;
    const temporary = join(this.#tmp, `${id}.${process.pid}.${this.#tmpCounter}`);
    try {
      await this.#writer(temporary, body);
      await rename(temporary, this.pathOf(id));
      this.#unsynced.push(this.pathOf(id));
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    return { id, storedBytes: body.length };
  }

  /**
   * Makes every chunk written since the last call durable: one `syncfs` of the backup's file
   * system (`sync -f`, Linux), or, where that is not available, an fsync per file and folder.
   * One sync per backup instead of one per chunk: thousands of fsyncs cost more than the data.
   */
  async sync(): Promise<void> {
    const paths = this.#unsynced;
    this.#unsynced = [];
    if (paths.length === 0) return;
    const isSynced = await new Promise<boolean>((resolve) =>
      execFile("sync", ["-f", this.root], (error) => resolve(error === null)),
    );
    if (isSynced) return;
    const folders = new Set<string>();
    for (const path of paths) {
      await syncPath(path);
      folders.add(join(path, ".."));
    }
    for (const folder of folders) await syncPath(folder).catch(() => undefined);
  }

  /** The chunk's plaintext, checked against its id; throws ChunkCorruptError when it does not match. */
  async get(id: string): Promise<Buffer> {
    const body = await readFile(this.pathOf(id));
    let data: Buffer;
    try {
      data = this.#open(id, body);
    } catch (error) {
      throw new ChunkCorruptError(`chunk ${id} cannot be decrypted: ${(error as Error).message}`);
    }
    if (chunkId(data) !== id) throw new ChunkCorruptError(`chunk ${id} does not match its SHA-256`);
    return data;
  }

  /** The stored size of a chunk (encrypted size when encrypted). */
  async storedSize(id: string): Promise<number> {
    return (await stat(this.pathOf(id))).size;
  }

  async remove(id: string): Promise<void> {
    await unlink(this.pathOf(id)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }

  /** Every chunk id in the store. */
  async listIds(): Promise<string[]> {
    let prefixes: string[];
    try {
      prefixes = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const ids: string[] = [];
    for (const prefix of prefixes) {
      for (const name of await readdir(join(this.root, prefix)))
        if (/^[0-9a-f]{64}$/.test(name) && name.startsWith(prefix)) ids.push(name);
    }
    return ids;
  }

  #seal(id: string, data: Buffer): Buffer {
    if (this.#key === undefined) return data;
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, nonce);
    cipher.setAAD(Buffer.from(id));
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    return Buffer.concat([nonce, cipher.getAuthTag(), ciphertext]);
  }

  #open(id: string, body: Buffer): Buffer {
    if (this.#key === undefined) return body;
    const decipher = createDecipheriv("aes-256-gcm", this.#key, body.subarray(0, 12));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(body.subarray(12, 28));
    return Buffer.concat([decipher.update(body.subarray(28)), decipher.final()]);
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

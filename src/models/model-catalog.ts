/**
 * ModelCatalog: the `*.gguf` files directly in the models folder, with their GGUF header and
 * SHA-256. Headers and digests are cached per (path, size, mtime); digests also persist in
 * the manifest; concurrent callers share one computation.
 */
import { mkdir, readdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { AppError, silentLogger, toAppError, type Logger } from "../core/index.js";
import { readGgufHeader, type GgufInfo } from "../gguf/index.js";
import { hashFileSha256, type HashFile } from "./file-digest.js";
import { findManifestDigest, recordManifestDigest, updateManifest } from "./manifest.js";
import { locateModelFile, type LocatedModelFile } from "./model-file.js";
import { isModelFileName, modelFileExtension, normalizeModelName } from "./model-name.js";
import { modelNotFoundError } from "./catalog-errors.js";
import type { CatalogScan, ModelEntry, ModelFile, ReadHeader } from "./model-entry.js";

export interface ModelCatalogOptions {
  /** Folder of `.gguf` files; created when missing. */
  modelsDir: string;
  /** Header reader. Default: `readGgufHeader` from src/gguf. */
  readHeader?: ReadHeader;
  /** Digest function. Default: streamed SHA-256. Tests wrap it to count hashes. */
  hashFile?: HashFile;
  /** Warns once per invalid file version. Default: silent. */
  logger?: Logger;
}

interface CachedFile {
  sizeBytes: number;
  mtimeMs: number;
  header: Promise<GgufInfo>;
  digest: Promise<string> | undefined;
}

export class ModelCatalog {
  readonly modelsDir: string;
  readonly #readHeader: ReadHeader;
  readonly #hashFile: HashFile;
  readonly #logger: Logger;
  readonly #cache = new Map<string, CachedFile>();
  /** Hashes run one at a time: several multi-GB files read at once only thrash the disk. */
  #hashQueue: Promise<unknown> = Promise.resolve();

  constructor(options: ModelCatalogOptions) {
    this.modelsDir = options.modelsDir;
    this.#readHeader = options.readHeader ?? readGgufHeader;
    this.#hashFile = options.hashFile ?? hashFileSha256;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Valid models sorted by name. Files with an invalid header are left out (see `scan`). */
  async list(): Promise<ModelEntry[]> {
    return (await this.scan()).models;
  }

  /** Every model file, valid ones with header and digest, invalid ones with their error. */
  async scan(): Promise<CatalogScan> {
    const realDir = await this.#prepareFolder();
    const located = await this.#locateAll(realDir);
    this.#forgetOtherFiles(new Set(located.map((file) => file.realPath)));
    await this.#pruneManifest(new Set(located.map((file) => file.realRelativePath)));

    const scan: CatalogScan = { models: [], invalid: [] };
    for (const file of located) {
      try {
        scan.models.push(await this.#describe(file));
      } catch (error) {
        const appError = toAppError(error);
        scan.invalid.push({ ...this.#basics(file), error: appError.message, errorCode: appError.code });
      }
    }
    return scan;
  }

  /**
   * Finds a model by name (`llama`, `llama:latest`, `llama.gguf`). Throws AppError
   * "bad-request" for names that could leave the folder, "model-not-found" for unknown
   * names, and the header reader's error for an invalid file.
   */
  async resolve(name: string): Promise<ModelEntry> {
    return this.#describe(await this.#find(name));
  }

  /**
   * Like `resolve`, without the digest: the model's file and header. A file never seen
   * before is not hashed first, so loading a freshly copied large model does not wait on it.
   */
  async resolveFile(name: string): Promise<ModelFile> {
    const file = await this.#find(name);
    return { ...this.#basics(file), info: await this.#cachedFile(file).header };
  }

  async #find(name: string): Promise<LocatedModelFile> {
    const normalized = normalizeModelName(name);
    const realDir = await this.#prepareFolder();
    const fileName = normalized + modelFileExtension;
    const result = isModelFileName(fileName) ? await locateModelFile(realDir, fileName) : undefined;
    if (result?.kind === "found") return result.file;
    if (result?.kind === "outside-folder") {
      throw new AppError(
        "forbidden",
        `Model "${normalized}" is a link to a file outside the models folder ${this.modelsDir}; ` +
          "links there must point to files in the same folder. Move the file into the folder instead.",
        { param: "model" },
      );
    }
    const available = (await this.#locateAll(realDir)).map((file) => file.fileName);
    throw modelNotFoundError(normalized, { modelsDir: this.modelsDir, availableFileNames: available });
  }

  /** Model files directly in the folder, sorted by name; header validity is not checked here. */
  async #locateAll(realDir: string): Promise<LocatedModelFile[]> {
    const fileNames = (await readdir(realDir)).filter(isModelFileName).sort();
    const located: LocatedModelFile[] = [];
    for (const fileName of fileNames) {
      const result = await locateModelFile(realDir, fileName);
      if (result.kind === "found") located.push(result.file);
    }
    return located;
  }

  async #prepareFolder(): Promise<string> {
    await mkdir(this.modelsDir, { recursive: true });
    return realpath(this.modelsDir);
  }

  #basics(file: LocatedModelFile): Omit<ModelFile, "info"> {
    return {
      name: file.fileName.slice(0, -modelFileExtension.length),
      path: join(this.modelsDir, file.fileName),
      sizeBytes: file.sizeBytes,
      modifiedAt: new Date(file.mtimeMs),
    };
  }

  async #describe(file: LocatedModelFile): Promise<ModelEntry> {
    const cached = this.#cachedFile(file);
    const info = await cached.header;
    cached.digest ??= this.#computeDigest(file, cached);
    return { ...this.#basics(file), digest: await cached.digest, info };
  }

  #cachedFile(file: LocatedModelFile): CachedFile {
    const cached = this.#cache.get(file.realPath);
    if (cached?.sizeBytes === file.sizeBytes && cached.mtimeMs === file.mtimeMs) return cached;
    const header = this.#readHeader(file.realPath);
    header.catch((error: unknown) => {
      this.#logger.warn("Ignoring an invalid model file.", { path: file.realPath, error: String(error) });
    });
    const fresh: CachedFile = { sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs, header, digest: undefined };
    this.#cache.set(file.realPath, fresh);
    return fresh;
  }

  async #computeDigest(file: LocatedModelFile, cached: CachedFile): Promise<string> {
    const stats = { sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs };
    try {
      const recorded = await findManifestDigest(this.modelsDir, file.realRelativePath, stats);
      if (recorded !== undefined) return recorded;
      const run = this.#hashQueue.then(() => this.#hashFile(file.realPath));
      this.#hashQueue = run.catch(() => {});
      const digest = await run;
      await recordManifestDigest(this.modelsDir, file.realRelativePath, { ...stats, sha256: digest }).catch(
        (error: unknown) => this.#logger.warn("Cannot write the models manifest.", { error: String(error) }),
      );
      return digest;
    } catch (error) {
      // An I/O failure is not a property of the file: let the next caller try again.
      cached.digest = undefined;
      throw error;
    }
  }

  #forgetOtherFiles(present: Set<string>): void {
    for (const path of this.#cache.keys()) if (!present.has(path)) this.#cache.delete(path);
  }

  async #pruneManifest(present: Set<string>): Promise<void> {
    await updateManifest(this.modelsDir, (files) => {
      const stale = Object.keys(files).filter((fileName) => !present.has(fileName));
      for (const fileName of stale) delete files[fileName];
      return stale.length > 0;
    }).catch((error: unknown) =>
      this.#logger.warn("Cannot write the models manifest.", { error: String(error) }),
    );
  }
}

/**
 * ModelCatalog: the `*.gguf` files directly in the models folder (or the one file `--models`
 * names), with their GGUF header and SHA-256, and the bundled demo model while the folder has
 * none. Headers and digests are cached per (path, size, mtime); digests of the folder's files
 * also persist in its manifest; concurrent callers share one computation.
 */
import { lstatSync } from "node:fs";
import { mkdir, readdir, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { silentLogger, systemTime, toAppError, type Logger, type TimePort } from "../core/index.js";
import { readGgufHeader, type GgufInfo } from "../gguf/index.js";
import {
  defaultChatTemplateCheck,
  requireServableTemplate,
  type ChatTemplateVerdict,
} from "./chat-template-check.js";
import { hashFileSha256, type HashFile } from "./file-digest.js";
import { findManifestDigest, recordManifestDigest, updateManifest } from "./manifest.js";
import { fileIdentityOf, locateModelFile, type LocatedModelFile } from "./model-file.js";
import { isModelFileName, modelFileExtension, normalizeModelName } from "./model-name.js";
import { modelNotFoundError, unservableFileError } from "./catalog-errors.js";
import type { CatalogScan, InvalidModelFile, ModelEntry, ModelFile, ReadHeader } from "./model-entry.js";

export interface ModelCatalogOptions {
  /** Folder of `.gguf` files; created when missing. */
  modelsDir: string;
  /** Header reader. Default: `readGgufHeader` from src/gguf. */
  readHeader?: ReadHeader;
  /** Digest function. Default: streamed SHA-256. Tests wrap it to count hashes. */
  hashFile?: HashFile;
  /** Warns once per invalid file version. Default: silent. */
  logger?: Logger;
  /** Serve only this file of the folder (`--models FILE`); the folder's manifest is left alone. */
  onlyFileName?: string;
  /** A .gguf file offered, read in place, while the folder has no models: the bundled demo. */
  demoModelPath?: string;
  /**
   * Test-renders each file's chat template under a deadline before it is served
   * (chat-template-check.ts). Default: in a worker, 2 s, 256 MB; `false` skips the check.
   */
  checkChatTemplate?: false | ((template: string) => Promise<ChatTemplateVerdict>);
  /** For the template check's deadline. Default: systemTime. */
  time?: TimePort;
}

/** A located file and where it lives: the models folder, or the demo model's own folder. */
interface CatalogFile extends LocatedModelFile {
  folder: string;
  isDemo: boolean;
}

/** What the folder holds, without reading any header: for the start-up banner. */
export interface CatalogContents {
  /** Model files in the folder (1 or 0 when serving one file). */
  fileCount: number;
  /** The demo model's name while it is offered. */
  demoModelName: string | undefined;
}

interface CachedFile {
  identity: string;
  header: Promise<GgufInfo>;
  digest: Promise<string> | undefined;
}

export class ModelCatalog {
  readonly modelsDir: string;
  readonly #readHeader: ReadHeader;
  readonly #hashFile: HashFile;
  readonly #logger: Logger;
  readonly #onlyFileName: string | undefined;
  readonly #demoModelPath: string | undefined;
  readonly #checkChatTemplate: false | ((template: string) => Promise<ChatTemplateVerdict>);
  readonly #cache = new Map<string, CachedFile>();
  /** Files found in the folder by file name: a request re-checks one with a single `lstat` (ADR 0048). */
  readonly #located = new Map<string, CatalogFile>();
  /** Hashes run one at a time: several multi-GB files read at once only thrash the disk. */
  #hashQueue: Promise<unknown> = Promise.resolve();

  constructor(options: ModelCatalogOptions) {
    this.modelsDir = options.modelsDir;
    this.#readHeader = options.readHeader ?? readGgufHeader;
    this.#hashFile = options.hashFile ?? hashFileSha256;
    this.#logger = options.logger ?? silentLogger;
    this.#onlyFileName = options.onlyFileName;
    this.#demoModelPath = options.demoModelPath;
    this.#checkChatTemplate =
      options.checkChatTemplate ?? defaultChatTemplateCheck(options.time ?? systemTime, this.#logger);
  }

  /** How many model files the folder holds, and whether the demo model stands in for them. */
  async contents(): Promise<CatalogContents> {
    const available = await this.#available(await this.#prepareFolder());
    const demo = available.find((file) => file.isDemo);
    return {
      fileCount: available.length - (demo === undefined ? 0 : 1),
      demoModelName: demo?.fileName.slice(0, -modelFileExtension.length),
    };
  }

  /** Valid models sorted by name. Files with an invalid header are left out (see `scan`). */
  async list(): Promise<ModelEntry[]> {
    return (await this.scan()).models;
  }

  /** Every model file, valid ones with header and digest, invalid ones with their error. */
  async scan(): Promise<CatalogScan> {
    const realDir = await this.#prepareFolder();
    const located = await this.#available(realDir);
    this.#forgetOtherFiles(new Set(located.map((file) => file.realPath)));
    if (this.#onlyFileName === undefined) {
      const inFolder = located.filter((file) => !file.isDemo);
      await this.#pruneManifest(new Set(inFolder.map((file) => file.realRelativePath)));
    }

    const scan: CatalogScan = { models: [], invalid: [] };
    for (const file of located) {
      try {
        scan.models.push(await this.#describe(file));
      } catch (error) {
        const appError = toAppError(error);
        scan.invalid.push({ ...this.#basics(file), error: appError.message, errorCode: appError.code });
      }
    }
    if (this.#onlyFileName === undefined) scan.invalid.push(...(await this.#unservable(realDir, located)));
    scan.invalid.sort((left, right) => (left.name < right.name ? -1 : 1));
    return scan;
  }

  /** Names in the folder that are no servable file (directories, FIFOs, links out): reported, never opened. */
  async #unservable(realDir: string, located: readonly CatalogFile[]): Promise<InvalidModelFile[]> {
    const known = new Set(located.map((file) => file.fileName));
    const unservable: InvalidModelFile[] = [];
    for (const fileName of (await readdir(realDir)).filter(isModelFileName).sort()) {
      if (known.has(fileName)) continue;
      const result = await locateModelFile(realDir, fileName);
      if (result.kind !== "not-a-file" && result.kind !== "outside-folder") continue;
      const name = fileName.slice(0, -modelFileExtension.length);
      const error = unservableFileError(name, result);
      const path = join(this.modelsDir, fileName);
      unservable.push({
        name,
        path,
        sizeBytes: 0,
        modifiedAt: new Date(0),
        error: error.message,
        errorCode: error.code,
      });
    }
    return unservable;
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

  async #find(name: string): Promise<CatalogFile> {
    const normalized = normalizeModelName(name);
    const fileName = normalized + modelFileExtension;
    const known = this.#located.get(fileName);
    if (known !== undefined && this.#isUnchanged(known)) return known;
    this.#located.delete(fileName);
    const realDir = await this.#prepareFolder();
    const isServed =
      isModelFileName(fileName) && (this.#onlyFileName === undefined || fileName === this.#onlyFileName);
    const result = isServed ? await locateModelFile(realDir, fileName) : undefined;
    if (result?.kind === "found") {
      const file = this.#inFolder(result.file);
      this.#located.set(fileName, file);
      return file;
    }
    if (result !== undefined && result.kind !== "missing") throw unservableFileError(normalized, result);
    const available = await this.#available(realDir);
    const demo = available.find((file) => file.isDemo && file.fileName === fileName);
    if (demo !== undefined) return demo;
    throw modelNotFoundError(normalized, {
      modelsDir: this.modelsDir,
      availableFileNames: available.map((file) => file.fileName),
      isSingleFile: this.#onlyFileName !== undefined,
    });
  }

  /**
   * The same regular file (device, inode, size, mtime) still at the name the full lookup found
   * it by: no need to re-create and re-resolve the folder and re-locate it. A link, a file
   * replaced, rewritten, touched or gone, or a folder moved away fails this and takes the full
   * lookup (containment, links and all).
   */
  #isUnchanged(file: CatalogFile): boolean {
    try {
      // Synchronous on purpose: one lstat of a known local file costs microseconds, while a
      // libuv pool round trip (a thread wake-up and a loop turn) cost ~0.2 ms of main-process CPU
      // per request on the 2-vCPU VM (ADR 0048).
      const stats = lstatSync(join(this.modelsDir, file.fileName));
      return (
        stats.isFile() &&
        stats.dev === file.device &&
        stats.ino === file.inode &&
        stats.size === file.sizeBytes &&
        stats.mtimeMs === file.mtimeMs
      );
    } catch {
      return false;
    }
  }

  /** The folder's model files, or the demo model alone when there are none and it is on. */
  async #available(realDir: string): Promise<CatalogFile[]> {
    const located = await this.#locateAll(realDir);
    if (located.length > 0 || this.#demoModelPath === undefined) return located;
    const demoFolder = await realpath(dirname(this.#demoModelPath)).catch(() => undefined);
    const demo =
      demoFolder === undefined ? undefined : await locateModelFile(demoFolder, basename(this.#demoModelPath));
    if (demo?.kind !== "found") return [];
    return [{ ...demo.file, folder: dirname(this.#demoModelPath), isDemo: true }];
  }

  /** Model files directly in the folder, sorted by name; header validity is not checked here. */
  async #locateAll(realDir: string): Promise<CatalogFile[]> {
    const fileNames =
      this.#onlyFileName === undefined
        ? (await readdir(realDir)).filter(isModelFileName).sort()
        : [this.#onlyFileName];
    const located: CatalogFile[] = [];
    for (const fileName of fileNames) {
      const result = await locateModelFile(realDir, fileName);
      if (result.kind === "found") located.push(this.#inFolder(result.file));
    }
    return located;
  }

  #inFolder(file: LocatedModelFile): CatalogFile {
    return { ...file, folder: this.modelsDir, isDemo: false };
  }

  async #prepareFolder(): Promise<string> {
    await mkdir(this.modelsDir, { recursive: true });
    return realpath(this.modelsDir);
  }

  #basics(file: CatalogFile): Omit<ModelFile, "info"> {
    return {
      name: file.fileName.slice(0, -modelFileExtension.length),
      path: join(file.folder, file.fileName),
      sizeBytes: file.sizeBytes,
      modifiedAt: new Date(file.mtimeMs),
      fileIdentity: fileIdentityOf(file),
      ...(file.isDemo ? { isDemo: true } : {}),
    };
  }

  async #describe(file: CatalogFile): Promise<ModelEntry> {
    const cached = this.#cachedFile(file);
    const info = await cached.header;
    cached.digest ??= this.#computeDigest(file, cached);
    return { ...this.#basics(file), digest: await cached.digest, info };
  }

  #cachedFile(file: CatalogFile): CachedFile {
    const cached = this.#cache.get(file.realPath);
    const identity = fileIdentityOf(file);
    if (cached?.identity === identity) return cached;
    const header = this.#readHeader(file.realPath).then((info) =>
      requireServableTemplate(file.realPath, info, this.#checkChatTemplate),
    );
    header.catch((error: unknown) => {
      this.#logger.warn("Ignoring an invalid model file.", { path: file.realPath, error: String(error) });
    });
    const fresh: CachedFile = { identity, header, digest: undefined };
    this.#cache.set(file.realPath, fresh);
    return fresh;
  }

  async #computeDigest(file: CatalogFile, cached: CachedFile): Promise<string> {
    const stats = { sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs };
    // The demo model and a lone --models file are hashed in memory: their folder is not ours to write.
    if (file.isDemo || this.#onlyFileName !== undefined) return this.#hashInTurn(file, cached);
    try {
      const recorded = await findManifestDigest(this.modelsDir, file.realRelativePath, stats);
      if (recorded !== undefined) return recorded;
      const digest = await this.#hashInTurn(file, cached);
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

  /** Hashes one file at a time; a failure is forgotten so the next caller tries again. */
  async #hashInTurn(file: CatalogFile, cached: CachedFile): Promise<string> {
    const run = this.#hashQueue.then(() => this.#hashFile(file.realPath));
    this.#hashQueue = run.catch(() => {});
    try {
      return await run;
    } catch (error) {
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

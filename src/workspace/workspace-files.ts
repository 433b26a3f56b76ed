/**
 * The workspace: one operator-configured folder whose text files the shell may read and write.
 * Nothing outside it is ever touched: paths are checked (workspace-path.ts), then resolved with
 * core's realpath containment (the models folder's rule: links count only when they point inside).
 * Every read returns a version (size, mtime, SHA-256); a write names the version it was based on
 * and fails with `conflict` when the file's content changed on disk since.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, realpath, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AppError, locateInsideFolder, type ContainedLookup } from "../core/index.js";
import { parseWorkspacePath } from "./workspace-path.js";
import { listWorkspaceTree, type WorkspaceTree } from "./workspace-tree.js";

export interface FileVersion {
  sizeBytes: number;
  mtimeMs: number;
  sha256: string;
}

export interface WorkspaceFile {
  path: string;
  content: string;
  version: FileVersion;
}

export interface WorkspaceOptions {
  /** The folder (--workspace); must exist. */
  root: string;
  /** Largest file read or written, in bytes. */
  maxFileBytes: number;
  /** Most entries a tree listing returns (the rest: `truncated`). Default 5000. */
  maxTreeEntries?: number;
}

export class Workspace {
  readonly #realRoot: string;
  readonly #maxFileBytes: number;
  readonly #maxTreeEntries: number;
  /** Writes per path, one at a time: the version check and the rename are one step. */
  readonly #writes = new Map<string, Promise<unknown>>();

  private constructor(realRoot: string, options: WorkspaceOptions) {
    this.#realRoot = realRoot;
    this.#maxFileBytes = options.maxFileBytes;
    this.#maxTreeEntries = options.maxTreeEntries ?? 5000;
  }

  static async open(options: WorkspaceOptions): Promise<Workspace> {
    const realRoot = await realpath(options.root).catch((error: unknown) => {
      throw new AppError(
        "bad-request",
        `The workspace folder ${options.root} cannot be opened (${String(error)}). Check --workspace.`,
        { cause: error },
      );
    });
    if (!(await stat(realRoot)).isDirectory())
      throw new AppError("bad-request", `--workspace names ${options.root}, which is not a folder.`);
    return new Workspace(realRoot, options);
  }

  get maxFileBytes(): number {
    return this.#maxFileBytes;
  }

  tree(): Promise<WorkspaceTree> {
    return listWorkspaceTree(this.#realRoot, { maxEntries: this.#maxTreeEntries });
  }

  async read(rawPath: string | undefined): Promise<WorkspaceFile> {
    const path = parseWorkspacePath(rawPath).join("/");
    const found = foundFile(await locateInsideFolder(this.#realRoot, path), path);
    const bytes = await this.#readBounded(found.realPath, path);
    const content = decodeText(bytes, path);
    return { path, content, version: versionOf(bytes, (await stat(found.realPath)).mtimeMs) };
  }

  /**
   * Writes `content` to `path` when the file is still at `baseSha256` (null: the file must not
   * exist yet); returns the new version. Atomic: a temporary file in the same folder, renamed.
   */
  async write(rawPath: string | undefined, content: string, baseSha256: string | null): Promise<FileVersion> {
    const path = parseWorkspacePath(rawPath).join("/");
    const bytes = Buffer.from(content, "utf8");
    if (bytes.length > this.#maxFileBytes)
      throw new AppError(
        "body-too-large",
        `${path} would be ${bytes.length} bytes; the workspace writes at most ${this.#maxFileBytes} (--workspace-max-file-bytes).`,
      );
    const previous = this.#writes.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#writeNow(path, bytes, baseSha256));
    this.#writes.set(path, next);
    try {
      return await next;
    } finally {
      if (this.#writes.get(path) === next) this.#writes.delete(path);
    }
  }

  async #writeNow(path: string, bytes: Buffer, baseSha256: string | null): Promise<FileVersion> {
    const target = await this.#writeTarget(path);
    if (target.current === undefined && baseSha256 !== null)
      throw new AppError("conflict", `${path} was deleted or moved on disk since it was opened.`);
    if (target.current !== undefined) {
      const currentSha = versionOf(await this.#readBounded(target.realPath, path), 0).sha256;
      if (baseSha256 === null)
        throw new AppError("conflict", `${path} already exists; open it and save over it instead.`);
      if (currentSha !== baseSha256)
        throw new AppError(
          "conflict",
          `${path} changed on disk since it was opened; reload it (or compare the two versions) before saving.`,
        );
    }
    const temporary = join(target.folder, `.rawrxd-${randomBytes(6).toString("hex")}.tmp`);
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      await handle.writeFile(bytes);
      if (target.current !== undefined) await handle.chmod(target.current.mode & 0o7777);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target.realPath).catch(async (error: unknown) => {
      await unlink(temporary).catch(() => undefined);
      throw error;
    });
    return versionOf(bytes, (await stat(target.realPath)).mtimeMs);
  }

  /** Where a write lands: the real file when it exists (inside), else a new name in a real folder inside. */
  async #writeTarget(
    path: string,
  ): Promise<{ realPath: string; folder: string; current: { mode: number } | undefined }> {
    const lookup = await locateInsideFolder(this.#realRoot, path);
    if (lookup.kind === "found") {
      const file = foundFile(lookup, path);
      const folder = dirname(file.realPath);
      return { realPath: file.realPath, folder, current: { mode: (await stat(file.realPath)).mode } };
    }
    foundFile(lookup, path, { allowMissing: true });
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    let folder = this.#realRoot;
    if (slash !== -1) {
      const parent = await locateInsideFolder(this.#realRoot, path.slice(0, slash), {
        allowDirectories: true,
      });
      if (parent.kind !== "found" || parent.file.kind !== "directory") {
        if (parent.kind === "outside-folder") throw outsideError(path);
        throw new AppError(
          "not-found",
          `The folder of ${path} does not exist in the workspace; create it first.`,
        );
      }
      folder = parent.file.realPath;
    }
    return { realPath: join(folder, name), folder, current: undefined };
  }

  /** The file's bytes, refusing files over the limit; never follows a link at the last step. */
  async #readBounded(realPath: string, path: string): Promise<Buffer> {
    const handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { size } = await handle.stat();
      if (size > this.#maxFileBytes)
        throw new AppError(
          "body-too-large",
          `${path} is ${size} bytes; the workspace opens files up to ${this.#maxFileBytes} bytes (--workspace-max-file-bytes).`,
        );
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }
}

function foundFile(
  lookup: ContainedLookup,
  path: string,
  options: { allowMissing?: boolean } = {},
): { realPath: string } {
  switch (lookup.kind) {
    case "found":
      return lookup.file;
    case "missing":
      if (options.allowMissing === true) return { realPath: "" };
      throw new AppError("not-found", `${path} does not exist in the workspace.`);
    case "not-a-file":
      throw new AppError("bad-request", `${path} is not a regular file (a folder or a device).`);
    case "outside-folder":
      throw outsideError(path);
  }
}

function outsideError(path: string): AppError {
  return new AppError(
    "forbidden",
    `${path} leads outside the workspace folder (a link pointing out); it is never read or written.`,
  );
}

function versionOf(bytes: Buffer, mtimeMs: number): FileVersion {
  return { sizeBytes: bytes.length, mtimeMs, sha256: createHash("sha256").update(bytes).digest("hex") };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeText(bytes: Buffer, path: string): string {
  try {
    if (!bytes.includes(0)) return utf8.decode(bytes);
  } catch {
    // not UTF-8: refused below like any binary file
  }
  throw new AppError("bad-request", `${path} is not a UTF-8 text file; the workspace edits text only.`);
}

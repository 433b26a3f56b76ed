/**
 * `pull`: download a GGUF file into the models folder. The bytes land in `<name>.gguf.partial`
 * (resumable), are checked (SHA-256, GGUF header) and only then renamed to `<name>.gguf`.
 */
import { lstat, mkdir, rename, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { AppError } from "../core/index.js";
import { readGgufHeader } from "../gguf/index.js";
import { downloadToFile, type DownloadProgress } from "./download-to-file.js";
import { parseSha256Hex } from "./file-digest.js";
import { recordManifestDigest } from "./manifest.js";
import type { ReadHeader } from "./model-entry.js";
import { isMissingFileError } from "./model-file.js";
import {
  assertSafeModelName,
  modelFileExtension,
  modelNameFromFileName,
  partialFileExtension,
} from "./model-name.js";
import { defaultHuggingFaceEndpoint, describeUrl, parsePullSource } from "./pull-source.js";

export type PullProgress = DownloadProgress;

export interface PullOptions {
  /** Folder the model is saved in; created when missing. */
  modelsDir: string;
  /** Model name (file name without .gguf). Default: the URL's file name, sanitised. */
  name?: string;
  /** SHA-256 hex the file must have; also accepted as a `#sha256=HEX` URL fragment. */
  expectedSha256?: string;
  /** Replace an existing model of the same name. Default false. */
  force?: boolean;
  /** Hugging Face base URL for `hf:` sources. Default `process.env.HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Hugging Face access token, sent only for `hf:` sources. Default `process.env.HF_TOKEN`. */
  token?: string;
  /** Called as bytes arrive (often: throttle before drawing). */
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  /** Header validator. Default: `readGgufHeader`. */
  readHeader?: ReadHeader;
}

export interface PullResult {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
  /** Bytes taken from an earlier partial download (0 for a fresh download). */
  resumedFromBytes: number;
}

/** Target paths being pulled in this process: two pulls into one partial would corrupt it. */
const activePulls = new Set<string>();

export async function pullModel(source: string, options: PullOptions): Promise<PullResult> {
  const endpoint = options.endpoint ?? process.env["HF_ENDPOINT"] ?? defaultHuggingFaceEndpoint;
  const parsed = parsePullSource(source, { endpoint });
  const expectedSha256 = pickExpectedSha256(options.expectedSha256, parsed.expectedSha256);
  const name = pickName(options.name, parsed.fileName);
  const path = resolve(options.modelsDir, name + modelFileExtension);
  const partialPath = path + partialFileExtension;
  const readHeader = options.readHeader ?? readGgufHeader;

  await mkdir(options.modelsDir, { recursive: true });
  if (activePulls.has(path)) {
    throw new AppError(
      "bad-request",
      `Model "${name}" is already being pulled into ${path}; wait for that pull to end.`,
    );
  }
  activePulls.add(path);
  try {
    await assertCanWrite(path, { name, force: options.force === true });
    const token = options.token ?? process.env["HF_TOKEN"];
    const downloaded = await downloadToFile({
      url: parsed.url,
      partialPath,
      fetchImpl: options.fetchImpl ?? fetch,
      headers: parsed.isHuggingFace && token ? { authorization: `Bearer ${token}` } : {},
      signal: options.signal,
      onProgress: options.onProgress,
    });
    if (expectedSha256 !== undefined && downloaded.sha256 !== expectedSha256) {
      await rm(partialPath, { force: true });
      throw new AppError(
        "model-invalid",
        `Download of ${describeUrl(parsed.url)} has SHA-256 ${downloaded.sha256}, expected ${expectedSha256}. ` +
          "The file was deleted; check the expected digest and the source.",
      );
    }
    await validateHeader(partialPath, { url: parsed.url, readHeader, signal: options.signal });
    await assertCanWrite(path, { name, force: options.force === true });
    await rename(partialPath, path);
    const stats = await stat(path);
    await recordManifestDigest(options.modelsDir, name + modelFileExtension, {
      sizeBytes: stats.size,
      mtimeMs: stats.mtimeMs,
      sha256: downloaded.sha256,
    });
    return {
      name,
      path,
      sha256: downloaded.sha256,
      bytes: stats.size,
      resumedFromBytes: downloaded.resumedFromBytes,
    };
  } finally {
    activePulls.delete(path);
  }
}

function pickExpectedSha256(
  fromOptions: string | undefined,
  fromUrl: string | undefined,
): string | undefined {
  if (fromOptions === undefined) return fromUrl;
  const parsed = parseSha256Hex(fromOptions);
  if (parsed === undefined) {
    throw new AppError("bad-request", `Expected SHA-256 "${fromOptions}" is not 64 hexadecimal digits.`, {
      param: "sha256",
    });
  }
  if (fromUrl !== undefined && fromUrl !== parsed) {
    throw new AppError(
      "bad-request",
      `The SHA-256 given (${parsed}) differs from the one in the URL fragment (${fromUrl}); pass only one.`,
      { param: "sha256" },
    );
  }
  return parsed;
}

function pickName(requested: string | undefined, fileName: string): string {
  if (requested !== undefined) {
    const name = requested.endsWith(modelFileExtension)
      ? requested.slice(0, -modelFileExtension.length)
      : requested;
    assertSafeModelName(name, requested);
    if (name.startsWith(".")) {
      throw new AppError(
        "bad-request",
        `Model name "${requested}" is not allowed: names may not start with ".".`,
        {
          param: "name",
        },
      );
    }
    return name;
  }
  const derived = modelNameFromFileName(fileName);
  if (derived === undefined) {
    throw new AppError(
      "bad-request",
      `Cannot derive a model name from "${fileName}"; pass a name (--name).`,
      {
        param: "name",
      },
    );
  }
  assertSafeModelName(derived);
  return derived;
}

async function assertCanWrite(path: string, options: { name: string; force: boolean }): Promise<void> {
  try {
    const stats = await lstat(path);
    if (options.force && stats.isFile()) return;
    throw new AppError(
      "bad-request",
      options.force
        ? `Cannot replace ${path}: it is not a regular file. Remove it first.`
        : `Model "${options.name}" already exists at ${path}. Pass --force to replace it, or choose another --name.`,
    );
  } catch (error) {
    if (isMissingFileError(error)) return;
    throw error;
  }
}

async function validateHeader(
  partialPath: string,
  options: { url: string; readHeader: ReadHeader; signal: AbortSignal | undefined },
): Promise<void> {
  try {
    await options.readHeader(partialPath, { signal: options.signal });
  } catch (error) {
    if (!(error instanceof AppError && error.code === "model-invalid")) throw error;
    await rm(partialPath, { force: true });
    throw new AppError(
      "model-invalid",
      `Download of ${describeUrl(options.url)} is not a valid GGUF model (${error.message}). ` +
        "The file was deleted; check that the URL points at the .gguf file itself " +
        "(on Hugging Face, a /resolve/ URL rather than a /blob/ page).",
      { cause: error },
    );
  }
}

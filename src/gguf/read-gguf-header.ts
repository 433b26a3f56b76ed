import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { AppError } from "../core/index.js";
import { checkHyperparameters, readArchitecture } from "./check-hyperparameters.js";
import { checkArchitectureKnown, checkVocabulary } from "./check-vocabulary.js";
import { ChunkedFileReader } from "./chunked-file-reader.js";
import { describeFileKind } from "./file-kind.js";
import { defaultGgufAlignmentBytes, ggufMagic, supportedGgufVersions } from "./gguf-format.js";
import { describeGguf, type GgufInfo } from "./gguf-info.js";
import { defaultGgufLimits, type GgufLimits } from "./gguf-limits.js";
import { GgufProblem, toInvalidModelError } from "./gguf-problem.js";
import { readKeyValues, type GgufKeyValue } from "./read-metadata.js";
import { checkTensorLayout, readTensorInfos } from "./read-tensor-infos.js";

export interface ReadGgufHeaderOptions {
  /** Aborts between chunk reads with an error named "AbortError". */
  signal?: AbortSignal;
  /** Overrides for `defaultGgufLimits`. */
  limits?: Partial<GgufLimits>;
}

/**
 * Reads and validates a GGUF v2/v3 header (metadata and tensor infos) without reading tensor data.
 * Everything llama.cpp would reject, or abort the process on, fails here first with
 * AppError("model-invalid") naming the file and the problem.
 */
export async function readGgufHeader(path: string, options: ReadGgufHeaderOptions = {}): Promise<GgufInfo> {
  const limits: GgufLimits = { ...defaultGgufLimits, ...options.limits };
  let handle: FileHandle;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever (and hold
    // a libuv thread); the stat below then refuses it. Regular files ignore the flag.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw toOpenError(path, error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new GgufProblem(
        `it is ${describeFileKind(stats)}, not a regular file`,
        "Pass the path of a .gguf file.",
      );
    }
    const reader = new ChunkedFileReader(handle, {
      path,
      fileBytes: stats.size,
      chunkBytes: limits.readChunkBytes,
      maxHeaderBytes: limits.maxHeaderBytes,
      signal: options.signal,
    });
    reader.checkAborted();
    return await readHeader(reader, path, limits);
  } catch (error) {
    if (error instanceof GgufProblem) throw toInvalidModelError(path, error);
    throw error;
  } finally {
    await handle.close();
  }
}

async function readHeader(reader: ChunkedFileReader, path: string, limits: GgufLimits): Promise<GgufInfo> {
  await reader.need(4, "the GGUF magic");
  const magic = reader.readUint32();
  if (magic !== ggufMagic) {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(magic);
    throw new GgufProblem(`it starts with the bytes ${bytes.toString("hex")} instead of "GGUF" (47475546)`);
  }
  await reader.need(4 + 8 + 8, "the GGUF version and counts");
  const version = reader.readUint32();
  checkVersion(version);
  const tensorCount = readCount(reader, { what: "tensors", limit: limits.maxTensorCount, minimumBytes: 33 });
  const keyValueCount = readCount(reader, {
    what: "metadata entries",
    limit: limits.maxKeyValueCount,
    minimumBytes: 14,
  });
  const keyValues = await readKeyValues(reader, keyValueCount, limits);
  const alignmentBytes = readAlignment(keyValues);
  const architecture = readArchitecture(keyValues);
  checkArchitectureKnown(architecture);
  checkVocabulary(keyValues);
  const tensors = await readTensorInfos(reader, tensorCount);
  const headerEnd = reader.position;
  const tensorDataOffset =
    tensorCount === 0 ? headerEnd : Math.ceil(headerEnd / alignmentBytes) * alignmentBytes;
  checkTensorLayout(tensors, { tensorDataOffset, alignmentBytes, fileBytes: reader.fileBytes });
  checkHyperparameters(keyValues, architecture, new Set(tensors.map((tensor) => tensor.name)));
  return describeGguf({
    path,
    fileBytes: reader.fileBytes,
    version,
    architecture,
    alignmentBytes,
    keyValues,
    tensors,
    tensorDataOffset,
  });
}

function checkVersion(version: number): void {
  if (supportedGgufVersions.includes(version)) return;
  if (version === 1) {
    throw new GgufProblem(
      "it is GGUF version 1, which llama.cpp no longer reads",
      "Convert it again with a current llama.cpp.",
    );
  }
  // A big-endian file stores 3 as 0x03000000.
  const hint = version > 0xffff ? " (a big-endian file? only little-endian GGUF is supported)" : "";
  throw new GgufProblem(`it has GGUF version ${version}${hint}; only versions 2 and 3 are supported`);
}

interface CountCheck {
  what: string;
  limit: number;
  /** Smallest encoding of one item, to compare the count against the bytes left. */
  minimumBytes: number;
}

function readCount(reader: ChunkedFileReader, { what, limit, minimumBytes }: CountCheck): number {
  const count = reader.readUint64();
  if (count > BigInt(limit)) {
    throw new GgufProblem(`the header claims ${count} ${what}, more than the limit of ${limit}`);
  }
  if (Number(count) * minimumBytes > reader.remainingBytes) {
    throw new GgufProblem(
      `the header claims ${count} ${what}, which cannot fit in the ${reader.remainingBytes} bytes left in the file`,
    );
  }
  return Number(count);
}

function readAlignment(keyValues: ReadonlyMap<string, GgufKeyValue>): number {
  const entry = keyValues.get("general.alignment");
  if (entry === undefined) return defaultGgufAlignmentBytes;
  if (entry.type !== "uint32") {
    throw new GgufProblem(`"general.alignment" must be a uint32, but it is a ${entry.type}`);
  }
  const alignment = entry.value as number;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw new GgufProblem(`"general.alignment" is ${alignment}, which is not a power of two`);
  }
  return alignment;
}

function toOpenError(path: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new AppError("model-not-found", `Model file ${path} does not exist. Check the path.`, {
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new AppError("model-load-failed", `Model file ${path} could not be opened: ${reason}.`, {
    cause: error,
  });
}

/**
 * One HTTP download into a `.partial` file, resumed with `Range` when the file already has
 * bytes, streamed to disk with backpressure and hashed on the way.
 */
import { createHash, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { AppError } from "../core/index.js";
import { updateHashFromFile } from "./file-digest.js";
import { httpStatusError, interruptedError, unreachableError } from "./download-errors.js";
import { describeUrl } from "./pull-source.js";
import { contentRangeStart, contentRangeTotal, partialFileSize } from "./http-ranges.js";

export interface DownloadProgress {
  /** Bytes in the partial file so far, resumed bytes included. */
  downloadedBytes: number;
  /** The whole file's size, when the server said. */
  totalBytes: number | undefined;
}

export interface DownloadOptions {
  url: string;
  partialPath: string;
  fetchImpl: typeof fetch;
  headers: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadResult {
  sha256: string;
  bytes: number;
  resumedFromBytes: number;
}

/** Throws AppError; the partial file is kept for a later resume unless it cannot be used. */
export async function downloadToFile(options: DownloadOptions): Promise<DownloadResult> {
  const { url, partialPath, signal } = options;
  // Two rounds at most: a partial that does not match the remote file is discarded once.
  for (let round = 0; ; round++) {
    const existingBytes = await partialFileSize(partialPath);
    const hash = createHash("sha256");
    if (existingBytes > 0) await updateHashFromFile(hash, partialPath, { signal, endBytes: existingBytes });
    const headers: Record<string, string> = { "accept-encoding": "identity", ...options.headers };
    if (existingBytes > 0) headers["range"] = `bytes=${existingBytes}-`;

    let response: Response;
    try {
      response = await options.fetchImpl(url, { headers, signal, redirect: "follow" });
    } catch (error) {
      throw signal?.aborted === true
        ? cancelledError(url, existingBytes, partialPath)
        : unreachableError(url, error);
    }

    if (response.status === 416 && existingBytes > 0) {
      await response.body?.cancel();
      const totalBytes = contentRangeTotal(response.headers.get("content-range"));
      if (totalBytes === undefined || totalBytes === existingBytes) {
        return { sha256: hash.digest("hex"), bytes: existingBytes, resumedFromBytes: existingBytes };
      }
    } else if (!response.ok) {
      await response.body?.cancel();
      throw httpStatusError(url, response);
    } else {
      const isResume = existingBytes > 0 && response.status === 206;
      const rangeStart = contentRangeStart(response.headers.get("content-range"));
      const isRangeRight = !isResume || rangeStart === undefined || rangeStart === existingBytes;
      if (isRangeRight) {
        // A 200 means the server ignored the range: the body is the whole file again.
        const startBytes = isResume ? existingBytes : 0;
        return await writeBody(response, {
          ...options,
          startBytes,
          hash: isResume ? hash : createHash("sha256"),
        });
      }
      await response.body?.cancel();
    }
    if (round > 0) {
      throw new AppError(
        "internal",
        `Download of ${describeUrl(url)} failed: the server answers ranges inconsistently.`,
      );
    }
    await rm(partialPath, { force: true });
  }
}

async function writeBody(
  response: Response,
  options: DownloadOptions & { startBytes: number; hash: Hash },
): Promise<DownloadResult> {
  const { url, partialPath, signal, startBytes, hash } = options;
  if (response.body === null)
    throw new AppError("internal", `Download of ${describeUrl(url)} failed: empty response body.`);
  if (/^text\/html\b/i.test(response.headers.get("content-type") ?? "")) {
    await response.body.cancel();
    await rm(partialPath, { force: true });
    throw new AppError(
      "model-invalid",
      `Download of ${describeUrl(url)} is an HTML page, not a GGUF file. Nothing was saved; ` +
        "use the URL of the .gguf file itself (on Hugging Face, a /resolve/ URL rather than a /blob/ page).",
    );
  }
  const totalBytes = expectedTotalBytes(response, startBytes);
  let downloadedBytes = startBytes;
  options.onProgress?.({ downloadedBytes, totalBytes });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      downloadedBytes += chunk.length;
      options.onProgress?.({ downloadedBytes, totalBytes });
      callback(null, chunk);
    },
  });
  const file = createWriteStream(partialPath, { flags: startBytes > 0 ? "a" : "w" });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counter, file, {
      signal,
    });
  } catch (error) {
    // The pipeline rejects when the body fails, while writes already queued may still land in
    // the partial file: wait for it to close, so a pull resumed at once reads its final size.
    // (Only "close": the file, destroyed with the pipeline's error, emits that error first.)
    if (!file.closed) await new Promise<void>((resolve) => file.once("close", () => resolve()));
    if (signal?.aborted === true) throw cancelledError(url, downloadedBytes, partialPath);
    throw interruptedError(url, { error, downloadedBytes, partialPath });
  }
  if (totalBytes !== undefined && downloadedBytes !== totalBytes) {
    throw interruptedError(url, {
      error: new Error(`expected ${totalBytes} bytes, got ${downloadedBytes}`),
      downloadedBytes,
      partialPath,
    });
  }
  return { sha256: hash.digest("hex"), bytes: downloadedBytes, resumedFromBytes: startBytes };
}

function expectedTotalBytes(response: Response, startBytes: number): number | undefined {
  const encoding = response.headers.get("content-encoding");
  // A compressed body's length says nothing about the file's size.
  if (encoding !== null && encoding !== "identity") return undefined;
  if (response.status === 206) {
    const total = contentRangeTotal(response.headers.get("content-range"));
    if (total !== undefined) return total;
  }
  const lengthHeader = response.headers.get("content-length");
  const length = lengthHeader === null ? NaN : Number(lengthHeader);
  return Number.isSafeInteger(length) && length >= 0 ? length + startBytes : undefined;
}

function cancelledError(url: string, downloadedBytes: number, partialPath: string): AppError {
  return new AppError(
    "cancelled",
    `Download of ${describeUrl(url)} was cancelled after ${downloadedBytes} bytes. ` +
      `The partial file ${partialPath} is kept; run the same pull again to resume.`,
  );
}

/**
 * What `pull` accepts: an `http(s)://…/file.gguf` URL (optionally `#sha256=HEX`) or
 * `hf:owner/repo/path/file.gguf[#revision]`, which maps to the Hugging Face resolve URL.
 */
import { AppError } from "../core/index.js";
import { parseSha256Hex } from "./file-digest.js";

export const defaultHuggingFaceEndpoint = "https://huggingface.co";

export interface PullSource {
  /** The URL fetched, without a fragment. */
  url: string;
  /** Last path segment of the file, decoded: the default model name comes from it. */
  fileName: string;
  /** From a `#sha256=HEX` fragment. */
  expectedSha256: string | undefined;
  /** True for `hf:` sources, which may carry a Hugging Face token. */
  isHuggingFace: boolean;
}

export function parsePullSource(source: string, options: { endpoint: string }): PullSource {
  if (source.startsWith("hf:")) return parseHuggingFaceSource(source, options.endpoint);
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw invalidSource(source, "it is neither a URL nor an hf: reference");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidSource(source, `the scheme ${url.protocol} is not supported`);
  }
  const expectedSha256 = parseShaFragment(source, url.hash);
  url.hash = "";
  const fileName = lastSegment(url.pathname);
  if (fileName === undefined) throw invalidSource(source, "the URL has no file name");
  return { url: url.href, fileName, expectedSha256, isHuggingFace: false };
}

function parseHuggingFaceSource(source: string, endpoint: string): PullSource {
  const [reference = "", revision, ...extra] = source.slice("hf:".length).split("#");
  const segments = reference.split("/");
  if (extra.length > 0 || segments.length < 3 || segments.some((segment) => segment.length === 0)) {
    throw invalidSource(source, "expected hf:owner/repo/path/file.gguf or hf:owner/repo/file.gguf#revision");
  }
  if (segments.some((segment) => segment === "." || segment === "..")) {
    throw invalidSource(source, 'path segments may not be "." or ".."');
  }
  if (revision !== undefined && revision.length === 0)
    throw invalidSource(source, "the revision after # is empty");
  const [owner, repo, ...filePath] = segments as [string, string, ...string[]];
  const base = endpoint.replace(/\/+$/, "");
  const encodedPath = filePath.map(encodeURIComponent).join("/");
  const url = `${base}/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/resolve/${encodeURIComponent(revision ?? "main")}/${encodedPath}`;
  return { url, fileName: filePath[filePath.length - 1]!, expectedSha256: undefined, isHuggingFace: true };
}

function parseShaFragment(source: string, hash: string): string | undefined {
  if (hash === "") return undefined;
  const match = /^#sha256[=:](.*)$/i.exec(hash);
  const digest = match === null ? undefined : parseSha256Hex(match[1] ?? "");
  if (digest === undefined) {
    throw invalidSource(source, "the only fragment accepted on a URL is #sha256=<64 hex digits>");
  }
  return digest;
}

function lastSegment(pathname: string): string | undefined {
  const segment = pathname.split("/").pop();
  if (segment === undefined || segment.length === 0) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function invalidSource(source: string, reason: string): AppError {
  return new AppError(
    "bad-request",
    `Cannot pull "${source}": ${reason}. Use an http(s)://…/file.gguf URL or hf:owner/repo/file.gguf.`,
    { param: "source" },
  );
}

/** The URL as it may appear in messages: credentials hidden, fragment dropped. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username !== "" || parsed.password !== "") {
      parsed.username = "***";
      parsed.password = "";
    }
    parsed.hash = "";
    return parsed.href;
  } catch {
    return url;
  }
}

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { AppError } from "../../src/core/index.js";
import { ModelCatalog, pullModel } from "../../src/models/index.js";

const storiesBytes = await readFile(resolve(process.cwd(), "../shared/models/stories260K.gguf"));
const storiesSha256 = createHash("sha256").update(storiesBytes).digest("hex");
const cutAfterBytes = 300_000;

interface SeenRequest {
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

let server: Server;
let baseUrl: string;
let seen: SeenRequest[];
/** Paths whose next response stops after `cutAfterBytes`. */
const cutOnce = new Set<string>();
let ignoreRange = false;

function serveFile(request: IncomingMessage, response: ServerResponse, bytes: Buffer): void {
  const match = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
  const start = match === null || ignoreRange ? 0 : Number(match[1]);
  if (start >= bytes.length && start > 0) {
    response.writeHead(416, { "content-range": `bytes */${bytes.length}` }).end();
    return;
  }
  const headers = { "content-type": "application/octet-stream", "content-length": bytes.length - start };
  if (start > 0) {
    response.writeHead(206, {
      ...headers,
      "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
    });
  } else {
    response.writeHead(200, headers);
  }
  const body = bytes.subarray(start);
  if (cutOnce.delete(request.url ?? "")) {
    // Send part of the body, then drop the connection as a flaky network would.
    response.write(body.subarray(0, cutAfterBytes), () => request.socket.destroy());
    return;
  }
  response.end(body);
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? "/";
    seen.push({ path, range: request.headers.range, authorization: request.headers.authorization });
    if (path === "/models/stories260K.gguf" || path === "/owner/repo/resolve/main/file.gguf") {
      serveFile(request, response, storiesBytes);
    } else if (path === "/stall.gguf") {
      // Sends part of the file, then nothing: only an abort ends this download.
      response.writeHead(200, { "content-length": storiesBytes.length });
      response.write(storiesBytes.subarray(0, cutAfterBytes));
    } else if (path === "/page.gguf") {
      response
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end("<!doctype html><p>Not a model</p>");
    } else if (path === "/garbage.gguf") {
      serveFile(request, response, Buffer.from("definitely not GGUF ".repeat(1000)));
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("no such file");
    }
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

let root: string;
let modelsDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "rawrxd-pull-"));
  modelsDir = join(root, "models");
  seen = [];
  cutOnce.clear();
  ignoreRange = false;
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("pullModel", () => {
  it("downloads, verifies, renames and records the digest", async () => {
    const progress: number[] = [];
    const result = await pullModel(`${baseUrl}/models/stories260K.gguf`, {
      modelsDir,
      onProgress: (snapshot) => progress.push(snapshot.downloadedBytes),
    });
    expect(result).toEqual({
      name: "stories260K",
      path: join(modelsDir, "stories260K.gguf"),
      sha256: storiesSha256,
      bytes: storiesBytes.length,
      resumedFromBytes: 0,
    });
    expect(progress.at(-1)).toBe(storiesBytes.length);
    expect(await readdir(modelsDir)).toEqual([".rawrxd-manifest.json", "stories260K.gguf"]);
    let hashes = 0;
    const catalog = new ModelCatalog({ modelsDir, hashFile: async () => `${hashes++}` });
    expect((await catalog.resolve("stories260K")).digest).toBe(storiesSha256);
    expect(hashes).toBe(0);
  });

  it("resumes an interrupted download with Range", async () => {
    cutOnce.add("/models/stories260K.gguf");
    const url = `${baseUrl}/models/stories260K.gguf`;
    const first = await rejection(pullModel(url, { modelsDir, name: "tiny" }));
    expect(first.message).toContain(`Download of ${url} was interrupted`);
    expect(first.message).toContain("run the same pull again to resume");
    const partialBytes = (await stat(join(modelsDir, "tiny.gguf.partial"))).size;
    expect(partialBytes).toBeGreaterThan(0);

    const result = await pullModel(url, { modelsDir, name: "tiny", expectedSha256: storiesSha256 });
    expect(seen.at(-1)!.range).toBe(`bytes=${partialBytes}-`);
    expect(result.resumedFromBytes).toBe(partialBytes);
    expect(result.sha256).toBe(storiesSha256);
    expect((await readFile(result.path)).equals(storiesBytes)).toBe(true);
    expect(await readdir(modelsDir)).not.toContain("tiny.gguf.partial");
  });

  it("starts over when the server ignores the range", async () => {
    await pullModel(`${baseUrl}/models/stories260K.gguf`, { modelsDir, name: "seed" }); // creates the folder
    await writeFile(join(modelsDir, "tiny.gguf.partial"), storiesBytes.subarray(0, 1000));
    ignoreRange = true;
    const result = await pullModel(`${baseUrl}/models/stories260K.gguf`, { modelsDir, name: "tiny" });
    expect(result.resumedFromBytes).toBe(0);
    expect(result.sha256).toBe(storiesSha256);
  });

  it("treats 416 on a complete partial as done and verifies it", async () => {
    await pullModel(`${baseUrl}/models/stories260K.gguf`, { modelsDir, name: "seed" });
    await writeFile(join(modelsDir, "tiny.gguf.partial"), storiesBytes);
    const result = await pullModel(`${baseUrl}/models/stories260K.gguf`, { modelsDir, name: "tiny" });
    expect(seen.at(-1)!.range).toBe(`bytes=${storiesBytes.length}-`);
    expect(result).toMatchObject({ sha256: storiesSha256, resumedFromBytes: storiesBytes.length });
  });

  it("stops on abort with a cancelled error and keeps the partial", async () => {
    const abort = new AbortController();
    const error = await rejection(
      pullModel(`${baseUrl}/stall.gguf`, {
        modelsDir,
        signal: abort.signal,
        onProgress: (snapshot) => {
          if (snapshot.downloadedBytes > 0) abort.abort();
        },
      }),
    );
    expect(error.code).toBe("cancelled");
    expect(error.message).toContain("run the same pull again to resume");
    expect(await readdir(modelsDir)).toEqual(["stall.gguf.partial"]);
  });

  it("deletes the download on a SHA-256 mismatch and names both digests", async () => {
    const wrong = "0".repeat(64);
    const error = await rejection(
      pullModel(`${baseUrl}/models/stories260K.gguf#sha256=${wrong}`, { modelsDir }),
    );
    expect(error.code).toBe("model-invalid");
    expect(error.message).toContain(wrong);
    expect(error.message).toContain(storiesSha256);
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it("reports a 404 with the URL and status", async () => {
    const error = await rejection(pullModel(`${baseUrl}/missing.gguf`, { modelsDir }));
    expect(error.code).toBe("not-found");
    expect(error.message).toContain(`Download of ${baseUrl}/missing.gguf failed: HTTP 404 Not Found.`);
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it("rejects an HTML page served as .gguf and leaves nothing", async () => {
    const error = await rejection(pullModel(`${baseUrl}/page.gguf`, { modelsDir }));
    expect(error.code).toBe("model-invalid");
    expect(error.message).toContain("HTML page");
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it("rejects bytes that are not GGUF after download and leaves nothing", async () => {
    const error = await rejection(pullModel(`${baseUrl}/garbage.gguf`, { modelsDir }));
    expect(error.code).toBe("model-invalid");
    expect(error.message).toContain("is not a valid GGUF model");
    expect(await readdir(modelsDir)).toEqual([]);
  });

  it("maps hf:owner/repo/file.gguf to the endpoint's resolve URL", async () => {
    const result = await pullModel("hf:owner/repo/file.gguf", {
      modelsDir,
      endpoint: baseUrl,
      token: "secret",
    });
    expect(seen.map((request) => request.path)).toEqual(["/owner/repo/resolve/main/file.gguf"]);
    expect(seen[0]!.authorization).toBe("Bearer secret");
    expect(result.name).toBe("file");
  });

  it("refuses to overwrite an existing model unless forced", async () => {
    const url = `${baseUrl}/models/stories260K.gguf`;
    await pullModel(url, { modelsDir });
    const error = await rejection(pullModel(url, { modelsDir }));
    expect(error.message).toContain("already exists");
    expect(error.message).toContain("--force");
    expect((await pullModel(url, { modelsDir, force: true })).sha256).toBe(storiesSha256);
  });

  it.each(["../evil", "a/b", ".."])("rejects the name %j", async (name) => {
    const error = await rejection(pullModel(`${baseUrl}/models/stories260K.gguf`, { modelsDir, name }));
    expect(error.code).toBe("bad-request");
    expect(seen).toEqual([]);
  });
});

describe("rawrxd pull", () => {
  it("pulls end to end and prints the path and sha256", async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = {
      stdout: { write: (text: string) => stdout.push(text) },
      stderr: { write: (text: string) => stderr.push(text), isTTY: false },
      stdin: (async function* () {})(),
      env: {},
    };
    const url = `${baseUrl}/models/stories260K.gguf`;
    const code = await main(["pull", url, "--models", modelsDir, "--home", root], io);
    expect(stderr.join("")).toContain("100%");
    expect(code).toBe(0);
    expect(stdout.join("")).toContain(join(modelsDir, "stories260K.gguf"));
    expect(stdout.join("")).toContain(storiesSha256);
    // Non-TTY progress: about one line per tenth, not one per chunk.
    expect(stderr.join("").split("\n").length).toBeLessThan(15);
  });

  it("returns 1 and prints the error for a 404", async () => {
    const stderr: string[] = [];
    const io = {
      stdout: { write: () => true },
      stderr: { write: (text: string) => stderr.push(text) },
      stdin: (async function* () {})(),
      env: {},
    };
    const code = await main(["pull", `${baseUrl}/missing.gguf`, "--models", modelsDir, "--home", root], io);
    expect(code).toBe(1);
    expect(stderr.join("")).toContain("HTTP 404 Not Found");
  });
});

/**
 * SIGTERM to a real `rawrxd serve` process with the real engine (issue #10, item 4): during
 * --shutdown-grace the port answers (/ready 503, new generations 503 with Retry-After), the two
 * streams still running when the grace ends get their dialect's final error event and a clean
 * end of body (no "transfer closed"), and the process exits 0.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for.js";
import { storiesPath } from "./helpers.js";

let child: ChildProcess | undefined;
let home: string;
let url: string;
let log = "";

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => done(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

async function waitForHealth(timeoutMs: number): Promise<void> {
  const isHealthy = () =>
    fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false, // not listening yet
    );
  // The server's own output says why it did not start.
  await waitFor(isHealthy, "the server to start", timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}; its log: ${log}`);
  });
}

/** A streaming POST whose body the test reads to the end, noting whether it ended cleanly. */
function stream(path: string, body: unknown): Promise<{ response: IncomingMessage; text: Promise<string> }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((done, fail) => {
    const request = httpRequest(`${url}${path}`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(payload.length) },
    });
    request.once("error", fail);
    request.once("response", (response) => {
      const text = new Promise<string>((ended, torn) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        // "aborted"/"error" is curl's "transfer closed with outstanding read data remaining".
        response.once("aborted", () => torn(new Error("the body was cut before its end")));
        response.once("error", torn);
        response.once("end", () => ended(Buffer.concat(chunks).toString("utf8")));
      });
      text.catch(() => undefined);
      done({ response, text });
    });
    request.end(payload);
  });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "rawrxd-sigterm-"));
  mkdirSync(join(home, "models"));
  copyFileSync(storiesPath, join(home, "models", "stories260K.gguf"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(
    process.execPath,
    [
      resolve("bin/rawrxd.js"),
      "serve",
      ...["--host", "127.0.0.1", "--port", String(port), "--home", home, "--models", join(home, "models")],
      ...["--shutdown-grace", "300ms", "--threads", "1", "--parallel", "2", "--engine-build", "prebuilt"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  await waitForHealth(60_000);
  // Load the model before the test, so the streams start at once.
  await fetch(`${url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "stories260K" }) });
});

afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  rmSync(home, { recursive: true, force: true });
});

describe("SIGTERM during two streams", () => {
  it("drains with the port open, ends both streams with an error event, then exits 0", async () => {
    const long = { model: "stories260K", stream: true, max_tokens: 500, temperature: 0.8 };
    const [sse, ndjson] = await Promise.all([
      stream("/v1/completions", { ...long, prompt: "Once upon a time" }),
      stream("/api/generate", { ...long, prompt: "Once upon a time", options: { num_predict: 500 } }),
    ]);
    // Paused readers: each generation waits on backpressure, so both are still running at the grace's end.
    sse.response.pause();
    ndjson.response.pause();
    const exited = new Promise<number | null>((done) => child!.once("exit", (code) => done(code)));
    child!.kill("SIGTERM");
    let readyStatus = 0;
    for (let attempt = 0; attempt < 20 && readyStatus !== 503; attempt++) {
      readyStatus = (await fetch(`${url}/ready`)).status;
    }
    expect(readyStatus).toBe(503);
    const refused = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "stories260K", prompt: "x", max_tokens: 2 }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");

    sse.response.resume();
    ndjson.response.resume();
    const sseText = await sse.text;
    const events = sseText.split("\n\n").filter((frame) => frame.startsWith("data: "));
    expect(events.at(-1)).toMatch(/^data: \{"error":\{"message":"The server is shutting down/);
    expect(sseText).not.toMatch(/\[DONE\]/);
    const lines = (await ndjson.text).trim().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toEqual({ error: expect.stringMatching(/shutting down/) });
    expect(lines.some((line) => line.includes('"done":true'))).toBe(false);
    expect(await exited).toBe(0);
  });
});

/**
 * Issue #10: a fresh install with an empty RAWRXD_HOME answers the README's own examples on the
 * first try, offline, from the bundled demo model: the curl request under "Use it" and
 * `rawrxd run stories260K "Once upon a time"`, both through the real CLI and engine.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for.js";

const binPath = resolve("bin/rawrxd.js");
const root = mkdtempSync(join(tmpdir(), "rawrxd-first-run-"));
// A home that does not exist yet, as on a machine that never ran RawrXD.
const home = join(root, "home");
// The prebuilt engine as the other model tests pin it, and one thread: no calibration under load.
const env = { ...process.env, RAWRXD_HOME: home, RAWRXD_ENGINE_BUILD: "prebuilt", RAWRXD_THREADS: "1" };
const server = spawn(process.execPath, [binPath, "serve", "--port", "0"], {
  env,
  stdio: ["ignore", "ignore", "pipe"],
});
let stderr = "";
server.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));

afterAll(async () => {
  if (server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((done) => server.once("exit", done));
  }
  rmSync(root, { recursive: true, force: true });
});

async function serverUrl(): Promise<string> {
  const listening = () => {
    if (server.exitCode !== null) throw new Error(`rawrxd serve exited: ${stderr}`);
    return /RawrXD listening on (\S+)/.exec(stderr)?.[1];
  };
  return waitFor(listening, "rawrxd serve to listen", 60_000).catch((error: Error) => {
    throw new Error(`${error.message}: ${stderr}`);
  });
}

/** The JSON body of the README's curl example under "Use it". */
function readmeCurlBody(): unknown {
  const readme = readFileSync("README.md", "utf8");
  const useIt = readme.slice(readme.indexOf("## Use it"));
  const match = /curl http:\/\/127\.0\.0\.1:11435(\S+) .*?-d '([^']+)'/s.exec(useIt);
  expect(match?.[1]).toBe("/v1/chat/completions");
  return JSON.parse(match![2]!);
}

describe("the first run on an empty RAWRXD_HOME", () => {
  it("answers the README's curl example and `rawrxd run stories260K`, and leaves the models folder empty", async () => {
    const url = await serverUrl();
    expect(stderr).toContain("0 models in");
    expect(stderr).toContain("offering the demo model stories260K");

    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(readmeCurlBody()),
    });
    expect(response.status).toBe(200);
    const events = (await response.text()).split("\n").filter((line) => line.startsWith("data: "));
    expect(events.at(-1)).toBe("data: [DONE]");
    const text = events
      .slice(0, -1)
      .map((line) => (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices)
      .map((choices) => choices[0]?.delta.content ?? "")
      .join("");
    expect(text.trim().length).toBeGreaterThan(0);

    const run = await promisify(execFile)(
      process.execPath,
      [binPath, "run", "stories260K", "Once upon a time", "--max-tokens", "16"],
      { env: { ...env, RAWRXD_URL: url } },
    );
    expect(run.stdout.trim().length).toBeGreaterThan(0);

    expect(readdirSync(join(home, "models"))).toEqual([]);
  });
});

/**
 * ADR 0060, on the real engine: `rawrxd serve` from bin/ runs the compiled server, and so the
 * compiled runner, while dist/ is a build of src/ as it is now (as after `npm ci` or `npm start`),
 * and the TypeScript source through tsx otherwise (src/ edited since).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isServerBuildCurrent } from "../../bin/server-build.js";
import { nodeFlags } from "../../src/core/index.js";
import { waitFor } from "../support/wait-for.js";
import { postJson } from "./helpers.js";

describe("bin/rawrxd.js", () => {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-compiled-"));
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  });

  it("runs the runner from dist/ while the build is current, from src/ otherwise", async () => {
    const isCompiled = isServerBuildCurrent(process.cwd());
    server = spawn(
      process.execPath,
      [...nodeFlags, resolve("bin/rawrxd.js"), "serve", "--home", home, "--port", "0", "--threads", "1"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(stderr)?.[1], "the banner", 20_000);

    const response = await postJson(`${url}/v1/completions`, {
      model: "stories260K",
      prompt: "Once",
      max_tokens: 4,
      temperature: 0,
    });
    expect(response.status).toBe(200);
    const { models } = (await (await fetch(`${url}/api/ps`)).json()) as { models: { pid: number }[] };
    const runnerArgs = readFileSync(`/proc/${models[0]!.pid}/cmdline`, "utf8").split("\0");
    expect(runnerArgs).toContain(
      resolve(isCompiled ? "dist/engine/runner/entry.js" : "src/engine/runner/entry.ts"),
    );
    expect(runnerArgs.includes("tsx")).toBe(!isCompiled);
  });
});

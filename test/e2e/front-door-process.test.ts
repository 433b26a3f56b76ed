/**
 * Issue #10, `rawrxd serve` as a real process: the start-up banner, and the server ending when
 * the npm/npx process that launched it dies (a service manager signals only that one).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "./helpers.js";

const binPath = resolve("bin/rawrxd.js");
const started: { home: string; pids: number[] }[] = [];

afterEach(() => {
  for (const { home, pids } of started.splice(0)) {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    rmSync(home, { recursive: true, force: true });
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `rawrxd serve` the way npx does: a node process (the "npm" stand-in, with npm's
 * environment) runs `sh -c`, which runs the server. On SIGTERM the stand-in, like npm, passes
 * the signal to the shell only and exits.
 */
function startUnderNpmLikeWrapper(serveArgs: (home: string) => string[]) {
  const home = mkdtempSync(join(tmpdir(), "rawrxd-process-"));
  const args = ["serve", "--home", home, "--port", "0", "--gpu", "cpu", ...serveArgs(home)];
  const quoted = [binPath, ...args].map((arg) => `'${arg}'`).join(" ");
  const script = `
    const { spawn } = require("node:child_process");
    const shell = spawn("sh", ["-c", ${JSON.stringify(`node ${quoted} & echo "server $!"; wait`)}], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    process.on("SIGTERM", () => { shell.kill("SIGTERM"); process.exit(143); });
    setInterval(() => {}, 1000);
  `;
  const wrapper = spawn(process.execPath, ["-e", script], {
    env: { ...process.env, npm_command: "exec", npm_lifecycle_event: "npx", RAWRXD_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const entry = { home, pids: [wrapper.pid!] };
  started.push(entry);
  const output = { stdout: "", stderr: "" };
  wrapper.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  wrapper.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const serverPid = async (): Promise<number> => {
    await waitFor(() => /server \d+/.test(output.stdout), "the server's pid", 10_000);
    const pid = Number(/server (\d+)/.exec(output.stdout)![1]);
    entry.pids.push(pid);
    return pid;
  };
  return { wrapper, home, output, serverPid };
}

async function waitForListening(output: { stderr: string }): Promise<void> {
  await waitFor(() => output.stderr.includes("RawrXD listening on"), "the banner", 20_000);
}

async function expectServerToExit(wrapper: ChildProcess, serverPid: number, signal: NodeJS.Signals) {
  wrapper.kill(signal);
  await waitFor(() => !isAlive(serverPid), `the server to exit after the wrapper got ${signal}`, 10_000);
}

describe("rawrxd serve under npx", () => {
  it("prints the model count, warns about a missing folder, logs threads auto, and exits when npx gets SIGTERM", async () => {
    const { wrapper, output, serverPid } = startUnderNpmLikeWrapper((home) => [
      "--models",
      join(home, "nope-models"),
      "--no-demo-model",
    ]);
    const pid = await serverPid();
    await waitForListening(output);
    const banner = output.stderr.split("\n").find((line) => line.startsWith("RawrXD listening on"));
    expect(banner).toMatch(/^RawrXD listening on http:\/\/127\.0\.0\.1:\d+ \(0 models in .*nope-models\)$/);
    expect(output.stderr).toContain("nope-models did not exist: created it empty");
    const listening = output.stderr.split("\n").find((line) => line.includes('"message":"Listening"'));
    expect(JSON.parse(listening!)).toMatchObject({ threads: "auto" });

    await expectServerToExit(wrapper, pid, "SIGTERM");
    expect(output.stderr).toContain("The npm/npx process that started RawrXD has exited: shutting down.");
  });

  it("exits when npx is killed outright and its shell lives on", async () => {
    const { wrapper, output, serverPid } = startUnderNpmLikeWrapper(() => ["--no-demo-model"]);
    const pid = await serverPid();
    await waitForListening(output);
    await expectServerToExit(wrapper, pid, "SIGKILL");
  });
});

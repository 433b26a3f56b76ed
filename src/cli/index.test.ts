import { createServer } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppModule, RunningServer } from "./cli-io.js";
import { systemTime } from "../core/index.js";
import { main } from "./index.js";
import { serverBaseUrl } from "./server-client.js";
import { createRecordingIo } from "./test-io.testing.js";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "rawrxd-cli-"));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe("main: usage", () => {
  it.each(["serve", "run", "ls", "ps", "show", "pull", "help"])(
    "%s --help prints usage and returns 0",
    async (command) => {
      for (const flag of ["--help", "-h"]) {
        const io = createRecordingIo();
        expect(await main([command, flag], io)).toBe(0);
        expect(io.output()).toContain(`Usage: rawrxd ${command}`);
        expect(io.errors()).toBe("");
      }
    },
  );

  it("serve --help lists every setting flag from the settings table", async () => {
    const io = createRecordingIo();
    await main(["serve", "--help"], io);
    for (const flag of [
      "--host",
      "--port",
      "--models",
      "--context-size",
      "--insecure-no-auth",
      "--log-level",
    ]) {
      expect(io.output()).toContain(flag);
    }
  });

  it("--help and help print the command list", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const io = createRecordingIo();
      expect(await main(argv, io)).toBe(0);
      expect(io.output()).toContain("Commands:");
    }
    const io = createRecordingIo();
    expect(await main(["help", "pull"], io)).toBe(0);
    expect(io.output()).toContain("Usage: rawrxd pull SOURCE");
  });

  it("prints the version", async () => {
    const io = createRecordingIo();
    expect(await main(["--version"], io)).toBe(0);
    expect(io.output()).toMatch(/^rawrxd \d+\.\d+\.\d+\n$/);
  });

  it.each([
    [["frobnicate"], 'rawrxd: Unknown command "frobnicate". Run "rawrxd --help" for usage.'],
    [["help", "frobnicate"], 'rawrxd help: Unknown command "frobnicate".'],
    [["serv"], 'rawrxd: Unknown command "serv". Did you mean serve?'],
    [["ls", "--frob"], "rawrxd ls: Unknown option '--frob'. Run \"rawrxd ls --help\" for usage."],
    [["ls", "extra"], 'rawrxd ls: Unexpected argument "extra".'],
    [["show"], "rawrxd show: Missing argument."],
    [
      ["run", "tiny", "hi", "--max-tokens", "many"],
      '--max-tokens expects a whole number of 1 or more, got "many"',
    ],
    [["run", "tiny", "hi", "--temperature=-1"], "--temperature expects a number of 0 or more"],
    [["run", "tiny", "hi", "--temperature", "-1"], '--temperature expects a number of 0 or more, got "-1"'],
    [
      ["serve", "--contxt-size", "4096"],
      "rawrxd serve: Unknown option '--contxt-size'. Did you mean --context-size?",
    ],
    [["serve", "-ngx", "9"], "rawrxd serve: Unknown option '-ngx'. Did you mean -ngl?"],
    [["ls", "--port", "99999"], "Invalid setting port from flag --port"],
    [["serve", "--gpu", "quantum"], "Invalid setting gpu from flag --gpu"],
    [["pull"], "rawrxd pull: Missing argument."],
  ])("%j returns 2 with a one-line error", async (argv, message) => {
    const io = createRecordingIo();
    const withHome = ["help", "frobnicate", "serv"].includes(argv[0]!) ? argv : [...argv, "--home", home];
    expect(await main(withHome, io)).toBe(2);
    expect(io.errors()).toContain(message);
    expect(io.errors().trimEnd().split("\n")).toHaveLength(1);
    expect(io.output()).toBe("");
  });

  it("no arguments prints the usage to stderr and returns 2", async () => {
    const io = createRecordingIo();
    expect(await main([], io)).toBe(2);
    expect(io.errors()).toContain("Usage: rawrxd <command>");
  });

  it("run without a prompt on a terminal is a usage error", async () => {
    const io = createRecordingIo({ stdinIsTTY: true });
    expect(await main(["run", "tiny", "--home", home], io)).toBe(2);
    expect(io.errors()).toContain("Missing PROMPT");
  });
});

describe("main: client commands without a server", () => {
  it.each([["ls"], ["ps"], ["show", "tiny"], ["run", "tiny", "hello"]])(
    "%j returns 1 with Cannot reach",
    async (...argv) => {
      const port = await closedPort();
      const io = createRecordingIo();
      expect(await main([...argv, "--port", String(port), "--home", home], io)).toBe(1);
      expect(io.errors()).toBe(
        `Cannot reach the RawrXD server at http://127.0.0.1:${port} (connect ECONNREFUSED). Start it with "rawrxd serve".\n`,
      );
    },
  );
});

describe("serverBaseUrl", () => {
  it("maps wildcard hosts to loopback, brackets IPv6 and honours RAWRXD_URL", () => {
    expect(serverBaseUrl({ host: "127.0.0.1", port: 11435 }, {})).toBe("http://127.0.0.1:11435");
    expect(serverBaseUrl({ host: "0.0.0.0", port: 80 }, {})).toBe("http://127.0.0.1:80");
    expect(serverBaseUrl({ host: "::", port: 80 }, {})).toBe("http://127.0.0.1:80");
    expect(serverBaseUrl({ host: "::1", port: 80 }, {})).toBe("http://[::1]:80");
    expect(serverBaseUrl({ host: "[fe80::1]", port: 80 }, {})).toBe("http://[fe80::1]:80");
    expect(serverBaseUrl({ host: "::1", port: 80 }, { RAWRXD_URL: "https://x.example/base/" })).toBe(
      "https://x.example/base",
    );
  });
});

describe("main: serve", () => {
  it("starts the app with the parsed config and returns when it closes", async () => {
    let closeServer = () => {};
    const closed = new Promise<void>((done) => (closeServer = done));
    const started: unknown[] = [];
    const app: AppModule = {
      async startServer(config): Promise<RunningServer> {
        started.push(config);
        const models = { source: home, isSingleFile: false, count: 2, demoModelName: undefined };
        return { url: "http://127.0.0.1:1234", models, close: async () => closeServer(), closed };
      },
    };
    const io = createRecordingIo();
    const exit = main(
      ["serve", "--port", "1234", "--insecure-no-auth", "--home", home, "--models", home],
      io,
      {
        loadApp: async () => app,
      },
    );
    await systemTime.sleep(20);
    expect(started).toEqual([
      expect.objectContaining({ port: 1234, insecureNoAuth: true, modelsDir: home, home }),
    ]);
    expect(io.errors()).toBe(`RawrXD listening on http://127.0.0.1:1234 (2 models in ${home})\n`);
    closeServer();
    expect(await exit).toBe(0);
  });
});

describe("main: serve's V8 flags", () => {
  it("sets the server's run-time V8 flags before it loads the app (ADR 0061)", async () => {
    const steps: string[] = [];
    const app: AppModule = {
      async startServer(): Promise<RunningServer> {
        const models = { source: home, isSingleFile: false, count: 0, demoModelName: undefined };
        return { url: "http://127.0.0.1:1", models, close: async () => {}, closed: Promise.resolve() };
      },
    };
    const dependencies = {
      applyServerV8Flags: () => steps.push("flags"),
      loadApp: async () => {
        steps.push("app");
        return app;
      },
    };
    expect(await main(["serve", "--home", home, "--port", "0"], createRecordingIo(), dependencies)).toBe(0);
    expect(steps).toEqual(["flags", "app"]);
  });

  it("leaves them unset for a client command", async () => {
    const steps: string[] = [];
    await main(["--version"], createRecordingIo(), { applyServerV8Flags: () => steps.push("flags") });
    expect(steps).toEqual([]);
  });
});

describe("main: serve with llama-server's spellings", () => {
  it("takes -m, -c, -ngl, -t, -np and --api-key as the settings they mean", async () => {
    const started: unknown[] = [];
    const app: AppModule = {
      async startServer(config): Promise<RunningServer> {
        started.push(config);
        const models = { source: "x.gguf", isSingleFile: true, count: 1, demoModelName: undefined };
        return { url: "http://127.0.0.1:1", models, close: async () => {}, closed: Promise.resolve() };
      },
    };
    const argv = ["serve", "--home", home, "-m", join(home, "x.gguf"), "-c", "4096", "-ngl", "0"];
    argv.push("-t", "2", "-np", "3", "--api-key", "k1,k2", "--host", "127.0.0.1", "--port", "0");
    expect(await main(argv, createRecordingIo(), { loadApp: async () => app })).toBe(0);
    expect(started).toEqual([
      expect.objectContaining({
        modelsDir: join(home, "x.gguf"),
        contextTokens: 4096,
        gpuLayers: 0,
        threads: 2,
        parallel: 3,
        apiKeys: ["k1", "k2"],
      }),
    ]);
  });
});

describe("main: serve errors", () => {
  it("explains a port in use and returns 1", async () => {
    const app: AppModule = {
      startServer: async () => {
        throw Object.assign(new Error("listen EADDRINUSE: address already in use"), { code: "EADDRINUSE" });
      },
    };
    const io = createRecordingIo();
    expect(await main(["serve", "--port", "8080", "--home", home], io, { loadApp: async () => app })).toBe(1);
    expect(io.errors()).toBe(
      "Cannot listen on 127.0.0.1:8080: the address is already in use. Stop the other server or pick another --port.\n",
    );
  });
});

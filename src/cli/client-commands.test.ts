import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeTime, systemTime } from "../core/index.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

const now = new Date("2025-06-01T12:00:00Z");
let server: Server;
let baseUrl: string;
let requests: { method: string; path: string; authorization: string | undefined; body: unknown }[];
/** NDJSON lines /api/generate streams next, with a pause between them. */
let generateLines: unknown[];

const tags = {
  models: [
    {
      name: "stories260K",
      model: "stories260K",
      modified_at: "2025-06-01T11:57:00Z",
      size: 1_185_376,
      digest: "ab".repeat(32),
      details: { format: "gguf", family: "llama", parameter_size: "260K", quantization_level: "F32" },
    },
  ],
};

const ps = {
  models: [
    {
      name: "stories260K",
      model: "stories260K",
      size: 5_000_000,
      digest: "ab".repeat(32),
      details: {},
      expires_at: "2025-06-01T12:04:00Z",
      size_vram: 0,
      context_length: 512,
    },
  ],
};

const show = {
  details: { family: "llama", parameter_size: "260K", quantization_level: "F32" },
  model_info: { "general.architecture": "llama", "llama.context_length": 512, "llama.embedding_length": 64 },
  template: "{{ .Prompt }}",
};

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of request) text += String(chunk);
  return text === "" ? undefined : JSON.parse(text);
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request);
  const path = request.url ?? "/";
  requests.push({ method: request.method ?? "", path, authorization: request.headers.authorization, body });
  const json = (status: number, value: unknown): void => {
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
  };
  if (path === "/api/tags") return json(200, tags);
  if (path === "/api/ps") return json(200, ps);
  if (path === "/api/show") {
    const model = (body as { model?: string }).model;
    return model === "stories260K" ? json(200, show) : json(404, { error: `model "${model}" not found` });
  }
  if (path === "/api/generate") {
    response.writeHead(200, { "content-type": "application/x-ndjson" });
    for (const line of generateLines) {
      response.write(JSON.stringify(line) + "\n");
      await systemTime.sleep(5);
    }
    response.end();
    return;
  }
  json(404, { error: "no route" });
}

beforeAll(async () => {
  server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
});

beforeEach(() => {
  requests = [];
  generateLines = [];
});

async function run(
  argv: string[],
  options: {
    env?: Record<string, string>;
    stdinText?: string;
    onInterrupt?: (handler: () => void) => () => void;
  } = {},
) {
  const env = { RAWRXD_URL: baseUrl, RAWRXD_HOME: "/nonexistent", ...options.env };
  const io = createRecordingIo({ ...options, env });
  const time = new FakeTime({ wallMs: now.getTime() });
  const code = await main(argv, io, { time, onInterrupt: options.onInterrupt ?? (() => () => {}) });
  return { code, stdout: io.output(), stderr: io.errors() };
}

describe("rawrxd ls and ps", () => {
  it("ls prints NAME, SIZE, QUANT, MODIFIED", async () => {
    const result = await run(["ls"]);
    expect(result).toEqual({
      code: 0,
      stdout: "NAME          SIZE      QUANT   MODIFIED\nstories260K   1.1 MiB   F32     3 minutes ago\n",
      stderr: "",
    });
  });

  it("ps against an Ollama server prints the table with RawrXD's columns empty and no queue", async () => {
    const result = await run(["ps"]);
    const [header, row, ...rest] = result.stdout.split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["NAME", "SIZE", "CONTEXT", "SEQUENCES", "QUEUED", "UNTIL"]);
    expect(row).toMatch(/^stories260K\s+4\.8 MiB\s+512\s+4 minutes from now$/);
    expect(rest).toEqual([""]);
  });

  it("sends RAWRXD_API_KEY as a bearer token", async () => {
    await run(["ls"], { env: { RAWRXD_API_KEY: "key-1" } });
    expect(requests[0]!.authorization).toBe("Bearer key-1");
  });
});

describe("rawrxd show", () => {
  it("prints a summary", async () => {
    const result = await run(["show", "stories260K"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/architecture\s+llama/);
    expect(result.stdout).toMatch(/parameters\s+260K/);
    expect(result.stdout).toMatch(/context length\s+512/);
    expect(result.stdout).toMatch(/embedding length\s+64/);
    expect(result.stdout).toMatch(/quantization\s+F32/);
    expect(result.stdout).toMatch(/chat template\s+yes/);
    expect(requests[0]).toMatchObject({ method: "POST", path: "/api/show", body: { model: "stories260K" } });
  });

  it("--json prints the raw response", async () => {
    const result = await run(["show", "stories260K", "--json"]);
    expect(JSON.parse(result.stdout)).toEqual(show);
  });

  it("prints the server's error and returns 1", async () => {
    const result = await run(["show", "nope"]);
    expect(result).toEqual({ code: 1, stdout: "", stderr: 'Error: model "nope" not found (HTTP 404)\n' });
  });
});

describe("rawrxd run", () => {
  const final = { done: true, eval_count: 20, eval_duration: 500_000_000, prompt_eval_count: 4 };

  it("streams the response pieces and ends with a newline", async () => {
    generateLines = [
      { response: "Once" },
      { response: " upon" },
      { response: " a time" },
      { response: "", ...final },
    ];
    const result = await run([
      "run",
      "stories260K",
      "Tell me",
      "--temperature",
      "0",
      "--max-tokens",
      "20",
      "--seed",
      "7",
    ]);
    expect(result).toEqual({ code: 0, stdout: "Once upon a time\n", stderr: "" });
    expect(requests[0]!.body).toEqual({
      model: "stories260K",
      prompt: "Tell me",
      stream: true,
      options: { temperature: 0, num_predict: 20, seed: 7 },
    });
  });

  it("sends --system and --raw, and prints stats with --verbose", async () => {
    generateLines = [{ response: "Hi\n" }, final];
    const result = await run(["run", "stories260K", "x", "--system", "Be brief", "--raw", "--verbose"]);
    expect(result.stdout).toBe("Hi\n");
    expect(result.stderr).toMatch(/prompt eval count:\s+4 token\(s\)/);
    expect(result.stderr).toMatch(/eval count:\s+20 token\(s\)/);
    expect(result.stderr).toMatch(/eval rate:\s+40\.00 tokens\/s/);
    expect(requests[0]!.body).toMatchObject({ system: "Be brief", raw: true });
  });

  it("reads the prompt from stdin when none is given", async () => {
    generateLines = [{ response: "ok" }, final];
    const result = await run(["run", "stories260K"], { stdinText: "from a pipe\n" });
    expect(result.code).toBe(0);
    expect(requests[0]!.body).toMatchObject({ prompt: "from a pipe" });
  });

  it("prints an error line from the stream and returns 1", async () => {
    generateLines = [{ response: "Once" }, { error: "runner crashed" }];
    const result = await run(["run", "stories260K", "x"]);
    expect(result).toEqual({ code: 1, stdout: "Once\n", stderr: "Error: runner crashed\n" });
  });

  it("returns 1 when the stream ends before done", async () => {
    generateLines = [{ response: "Once" }];
    const result = await run(["run", "stories260K", "x"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ended the stream before the generation was done");
  });

  it("stops on Ctrl-C and returns 130", async () => {
    generateLines = Array.from({ length: 200 }, (_, index) => ({ response: `${index} ` }));
    let removed = false;
    const result = await run(["run", "stories260K", "x"], {
      onInterrupt: (handler) => {
        systemTime.setTimeout(handler, 50);
        return () => {
          removed = true;
        };
      },
    });
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/^0 1 .*\n$/);
    expect(result.stdout).not.toContain("199");
    expect(removed).toBe(true);
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

let server: Server;
let baseUrl: string;
let paths: string[];

const stats = (p50: number | null) => ({
  count: p50 === null ? 0 : 3,
  min: p50,
  max: p50,
  mean: p50,
  p50,
  p95: p50,
  p99: p50,
});
const view = (requests: number) => ({
  requests,
  outcomes: { stop: requests },
  errors: {},
  tokens: { prompt: 1, completion: 2, cached: 0 },
  stats: {
    queue_ms: stats(2),
    time_to_first_token_ms: stats(35.5),
    decode_tokens_per_second: stats(120),
    total_ms: stats(1500),
  },
});
const snapshot = {
  window: "5m",
  overall: view(3),
  models: { alpha: { ...view(3), priorities: { high: view(1), low: view(2) } } },
  priorities: {},
};
const csvBody = 'window,model\r\n1h,"a,b"\r\n';

beforeAll(async () => {
  server = createServer((request, response) => {
    paths.push(request.url ?? "");
    const url = new URL(request.url ?? "/", "http://x");
    if (url.searchParams.get("format") === "csv") {
      response.writeHead(200, { "content-type": "text/csv" }).end(csvBody);
    } else if (url.pathname === "/v1/metrics/warnings") {
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          active: [
            {
              rule: "decode-speed",
              model: "alpha",
              message: 'Model "alpha" decodes 3.0 tokens/s',
              started_at: "2026-01-01T00:00:00.000Z",
            },
          ],
          recent: [
            {
              rule: "ttft-p95",
              model: "beta",
              state: "cleared",
              started_at: "2026-01-01T00:00:00.000Z",
              cleared_at: "2026-01-01T00:01:00.000Z",
            },
          ],
        }),
      );
    } else if (url.searchParams.get("window") === "bad") {
      response
        .writeHead(400, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: 'window must be 1m, 5m, 1h, start; got "bad".' } }));
    } else {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(snapshot));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  paths = [];
});

async function run(args: string[]) {
  const io = createRecordingIo({ env: { RAWRXD_URL: baseUrl } });
  const code = await main(["metrics", ...args], io);
  return { code, stdout: io.output(), stderr: io.errors() };
}

describe("rawrxd metrics", () => {
  it("export writes the server's CSV byte for byte", async () => {
    expect(await run(["export", "--format", "csv", "--window", "1h"])).toEqual({
      code: 0,
      stdout: csvBody,
      stderr: "",
    });
    expect(paths).toEqual(["/v1/metrics?format=csv&window=1h"]);
  });

  it("export --requests and --history pick their endpoints", async () => {
    expect((await run(["export", "--requests", "--limit", "20"])).code).toBe(0);
    expect((await run(["export", "--history", "--window", "24h", "--format", "json"])).code).toBe(0);
    expect(paths).toEqual([
      "/v1/metrics/requests?format=csv&limit=20",
      "/v1/metrics/history?format=json&since=24h",
    ]);
  });

  it("show prints percentiles per model and priority", async () => {
    const { code, stdout } = await run(["--window", "1m"]);
    expect(code).toBe(0);
    expect(paths).toEqual(["/v1/metrics?window=1m"]);
    expect(stdout).toMatch(/^Window 5m: 3 requests\nMODEL\s+PRIORITY\s+REQUESTS/);
    expect(stdout).toMatch(
      /alpha\s+high\s+1\s+0\s+2\.0ms\s+35\.5ms \/ 35\.5ms \/ 35\.5ms\s+120\.0\s+1\.50s \/ 1\.50s \/ 1\.50s/,
    );
  });

  it("warnings lists active and recently cleared warnings", async () => {
    const { code, stdout } = await run(["warnings"]);
    expect(code).toBe(0);
    expect(stdout).toBe(
      '2026-01-01T00:00:00.000Z  Model "alpha" decodes 3.0 tokens/s\n\nRecently cleared:\n2026-01-01T00:01:00.000Z  ttft-p95 (beta)\n',
    );
  });

  it("reports usage errors and the server's message", async () => {
    expect(await run(["export", "--format", "xml"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--format must be csv or json"),
    });
    expect(await run(["frobnicate"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Unknown action "frobnicate"'),
    });
    expect(await run(["export", "--requests", "--history"])).toMatchObject({ code: 2 });
    expect(await run(["show", "--window", "bad"])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('window must be 1m, 5m, 1h, start; got "bad". (HTTP 400)'),
    });
  });
});

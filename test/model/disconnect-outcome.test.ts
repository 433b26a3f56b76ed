/**
 * A client that leaves mid-stream is a cancellation, never an error: every disconnect lands in
 * the request log as `cancelled` with the tokens it was sent (issue #10, item 5). Some clients
 * read on until they leave, some stop reading first (a paused reader: the generation waits on
 * backpressure when the socket goes).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf, rawPost, sleep, type Json } from "../e2e/helpers.js";
import { startModelServer, type ModelTestServer } from "./helpers.js";

let test: ModelTestServer;

beforeAll(async () => {
  test = await startModelServer({ "max-queue": "64" });
});

afterAll(async () => {
  await test.dispose();
});

async function requestLog(): Promise<Json[]> {
  return (await bodyOf(await fetch(`${test.url}/v1/metrics/requests?limit=1000`))).requests as Json[];
}

describe("client disconnect mid-stream", () => {
  it("40 disconnects on the chat endpoints are all cancelled, with their token counts", async () => {
    const paths = ["/v1/chat/completions", "/api/chat", "/v1/completions", "/api/generate"];
    const ids: string[] = [];
    for (let round = 0; round < 40; round++) {
      const path = paths[round % paths.length]!;
      const isCompletion = path === "/v1/completions" || path === "/api/generate";
      const body = isCompletion
        ? {
            model: "stories260K",
            prompt: "Once upon a time",
            stream: true,
            max_tokens: 400,
            options: { num_predict: 400 },
          }
        : {
            model: "stories260K",
            messages: [{ role: "user", content: "Tell me a story" }],
            stream: true,
            max_tokens: 400,
            options: { num_predict: 400 },
          };
      const id = `disconnect-${round}`;
      ids.push(id);
      const request = rawPost(`${test.url}${path}`, body, { "x-request-id": id });
      const response = await request.response;
      expect(response.statusCode).toBe(200);
      let received = 0;
      await new Promise<void>((done) =>
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          // Past the role chunk: some text has gone out.
          if (received > 300) done();
        }),
      );
      // Half the clients stop reading first, so the stream is parked on backpressure when they go.
      if (round % 2 === 1) {
        response.pause();
        await sleep(20 + (round % 5) * 7);
      } else {
        await sleep(round % 7);
      }
      request.destroy();
    }
    let byId = new Map<string, Json>();
    for (let attempt = 0; attempt < 100 && ids.some((id) => !byId.has(id)); attempt++) {
      if (attempt > 0) await sleep(50);
      byId = new Map((await requestLog()).map((row): [string, Json] => [row.request_id as string, row]));
    }
    const rows: Json[] = ids.map((id): Json => byId.get(id) ?? { request_id: id });
    const summary = rows.map((row) => `${row?.outcome}/${row?.error_code ?? ""}/${row?.completion_tokens}`);
    expect(summary.filter((entry) => !entry.startsWith("cancelled/"))).toEqual([]);
    for (const row of rows) expect(row?.completion_tokens).toBeGreaterThan(0);
  }, 60_000);
});

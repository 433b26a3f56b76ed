import type { AddressInfo } from "node:net";
import { Agent, get as httpGet, type Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiEnv } from "./deps.js";
import { respondWithFrames, withDirectStreams } from "./frame-writer.js";

/** Frames from a list, recording whether the writer let them go early. */
function listFrames(frames: readonly string[]): AsyncIterator<string> & { returned: boolean } {
  let index = 0;
  const iterator = {
    returned: false,
    next: async (): Promise<IteratorResult<string>> =>
      index < frames.length ? { done: false, value: frames[index++]! } : { done: true, value: undefined },
    return: async (): Promise<IteratorResult<string>> => {
      iterator.returned = true;
      return { done: true, value: undefined };
    },
  };
  return iterator;
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

function listen(app: Hono<ApiEnv>): Promise<string> {
  return new Promise((resolve) => {
    server = serve(
      { fetch: withDirectStreams(app.fetch), hostname: "127.0.0.1", port: 0 },
      (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`),
    ) as Server;
  });
}

describe("respondWithFrames through withDirectStreams", () => {
  it("writes every frame with the headers middleware added after the route", async () => {
    const app = new Hono<ApiEnv>();
    app.use(async (context, next) => {
      await next();
      context.header("X-After", "yes");
    });
    app.get("/s", (context) =>
      respondWithFrames(context, listFrames(["a\n", "b\n", "c\n"]), {
        contentType: "application/x-ndjson",
        requestId: "r1",
        onCancel: () => undefined,
        clientSignal: context.req.raw.signal,
      }),
    );
    const response = await fetch(`${await listen(app)}/s`);
    expect(response.headers.get("x-after")).toBe("yes");
    expect(response.headers.get("x-request-id")).toBe("r1");
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    expect(response.headers.get("x-hono-already-sent")).toBeNull();
    expect(await response.text()).toBe("a\nb\nc\n");
  });

  it("streams response after response on one keep-alive connection", async () => {
    const app = new Hono<ApiEnv>();
    let served = 0;
    app.get("/s", (context) =>
      respondWithFrames(context, listFrames([`n${++served}\n`, "end\n"]), {
        contentType: "application/x-ndjson",
        requestId: `k${served}`,
        onCancel: () => undefined,
        clientSignal: context.req.raw.signal,
      }),
    );
    const url = `${await listen(app)}/s`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ body: string; socket: unknown; headers: Record<string, unknown> }>((resolve, reject) => {
        const request = httpGet(url, { agent }, (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (body += chunk));
          response.on("end", () => resolve({ body, socket: request.socket, headers: response.headers }));
        });
        request.on("error", reject);
      });
    const first = await get();
    const second = await get();
    agent.destroy();
    expect([first.body, second.body]).toEqual(["n1\nend\n", "n2\nend\n"]);
    expect(second.socket).toBe(first.socket);
    expect(second.headers["transfer-encoding"]).toBe("chunked");
    expect(second.headers["x-hono-already-sent"]).toBeUndefined();
  });

  it("lets the frames go when a later middleware replaces the response", async () => {
    const app = new Hono<ApiEnv>();
    const frames = listFrames(["a\n"]);
    let cancels = 0;
    app.use(async (context, next) => {
      await next();
      context.res = new Response("replaced", { status: 503 });
    });
    app.get("/s", (context) =>
      respondWithFrames(context, frames, {
        contentType: "text/event-stream",
        requestId: "r2",
        onCancel: () => void cancels++,
        clientSignal: context.req.raw.signal,
      }),
    );
    const response = await fetch(`${await listen(app)}/s`);
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("replaced");
    expect(cancels).toBe(1);
    expect(frames.returned).toBe(true);
  });

  it("falls back to a ReadableStream body without a Node response (app.request)", async () => {
    const app = new Hono<ApiEnv>();
    app.get("/s", (context) =>
      respondWithFrames(context, listFrames(["x", "y"]), {
        contentType: "text/event-stream",
        requestId: "r3",
        onCancel: () => undefined,
        clientSignal: context.req.raw.signal,
      }),
    );
    const response = await app.request("/s");
    expect(response.headers.get("x-hono-already-sent")).toBeNull();
    expect(await response.text()).toBe("xy");
  });
});

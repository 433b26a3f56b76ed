import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { BodyTooLarge, clientSignalOf, readBodyText } from "./node-request.js";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function listen(app: Hono): Promise<string> {
  const listener = getRequestListener(app.fetch);
  server = createServer((incoming, outgoing) => void listener(incoming, outgoing));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Sends `chunks` as a chunked body, one write each. */
function postChunks(url: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: "POST" }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe("readBodyText and clientSignalOf over Node's request", () => {
  it("reads a chunked body from the IncomingMessage and refuses one over the limit", async () => {
    const app = new Hono();
    app.post("/", async (context) => {
      try {
        return context.text(`read:${await readBodyText(context, 10)}`);
      } catch (error) {
        if (error instanceof BodyTooLarge) return context.text(`too large at ${error.bytes}`, 413);
        throw error;
      }
    });
    const url = await listen(app);
    expect(await postChunks(url, ["héllo", " ", "wo"])).toEqual({ status: 200, body: "read:héllo wo" });
    const refused = await postChunks(url, ["0123456789", "x"]);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatch(/^too large at 1[1-9]$/);
  });

  it("reads bodies request after request on one keep-alive connection, refusing one over the limit with 413", async () => {
    const app = new Hono();
    app.post("/", async (context) => {
      try {
        return context.text(`read:${await readBodyText(context, 16)}`);
      } catch (error) {
        if (error instanceof BodyTooLarge) return context.text(`too large at ${error.bytes}`, 413);
        throw error;
      }
    });
    const url = await listen(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
        const request = httpRequest(
          url,
          { method: "POST", agent, headers: { "Content-Length": Buffer.byteLength(body) } },
          (response) => {
            let text = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (text += chunk));
            response.on("end", () =>
              resolve({ status: response.statusCode ?? 0, body: text, socket: request.socket }),
            );
          },
        );
        request.on("error", reject);
        request.end(body);
      });
    const first = await post('{"a":"é"}');
    const second = await post("");
    const third = await post("0123456789abcdefg");
    const fourth = await post("again");
    agent.destroy();
    expect([first.body, second.body, third.status, fourth.body]).toEqual([
      'read:{"a":"é"}',
      "read:",
      413,
      "read:again",
    ]);
    expect(third.body).toBe("too large at 17");
    expect(second.socket).toBe(first.socket);
  });

  it("aborts the signal when the client goes before the response, with the adapter's reason", async () => {
    const app = new Hono();
    let entered!: () => void;
    const isInside = new Promise<void>((resolve) => (entered = resolve));
    const reasons = new Promise<[unknown, unknown]>((resolve) => {
      app.get("/", (context) => {
        const signal = clientSignalOf(context);
        expect(clientSignalOf(context)).toBe(signal);
        const adapters = context.req.raw.signal;
        signal.addEventListener("abort", () => resolve([signal.reason, adapters.reason]), { once: true });
        entered();
        return new Promise<Response>(() => undefined);
      });
    });
    const url = await listen(app);
    const request = httpRequest(url);
    request.on("error", () => undefined);
    request.end();
    await isInside;
    request.destroy();
    const [ours, adapters] = await reasons;
    expect(typeof ours).toBe("string");
    expect(ours).toBe(adapters);
  });

  it("is not aborted once the response finished", async () => {
    const app = new Hono();
    let seen: AbortSignal | undefined;
    app.get("/", (context) => {
      seen = clientSignalOf(context);
      return context.text("ok");
    });
    const url = await listen(app);
    const response = await fetch(url);
    expect(await response.text()).toBe("ok");
    const closed = new Promise<void>((resolve) => server!.once("close", () => resolve()));
    server!.closeAllConnections();
    server!.close();
    await closed;
    expect(seen?.aborted).toBe(false);
  });

  it("falls back to the web Request under app.request()", async () => {
    const app = new Hono();
    app.post("/", async (context) => {
      const signal = clientSignalOf(context);
      return context.text(`${await readBodyText(context, 100)}:${signal === context.req.raw.signal}`);
    });
    const response = await app.request("/", { method: "POST", body: "plain" });
    expect(await response.text()).toBe("plain:true");
  });
});

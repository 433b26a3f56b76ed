/**
 * The request's body and the client's disconnect signal read from Node's `IncomingMessage` and
 * `ServerResponse` where @hono/node-server passes them (ADR 0052). Touching the web `Request`'s
 * `body` or `signal` makes the adapter build a full undici `Request` around a web stream of the
 * body (`Readable.toWeb`), which measured ~8 % of a one-token request's main-process CPU. Under
 * `app.request()` (no Node objects) both fall back to the web `Request`, unchanged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

/** What @hono/node-server passes as the request's env; absent under `app.request()`. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

const signals = new WeakMap<ServerResponse, AbortSignal>();

/**
 * Aborted when the client goes away before the response finished, with the reason the adapter
 * gives its own `Request.signal` ("Client connection prematurely closed.", or the request's error).
 */
export function clientSignalOf(context: Context): AbortSignal {
  const { incoming, outgoing } = (context.env as NodeBindings | undefined) ?? {};
  if (incoming === undefined || outgoing === undefined) return context.req.raw.signal;
  const known = signals.get(outgoing);
  if (known !== undefined) return known;
  const controller = new AbortController();
  if (outgoing.closed) {
    if (!outgoing.writableFinished) controller.abort("Client connection prematurely closed.");
  } else {
    outgoing.once("close", () => {
      if (incoming.errored) controller.abort(incoming.errored.toString());
      else if (!outgoing.writableFinished) controller.abort("Client connection prematurely closed.");
    });
  }
  signals.set(outgoing, controller.signal);
  return controller.signal;
}

/** Thrown by `readBodyText` past `maxBytes`; `bytes` is what was read so far. */
export class BodyTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`The request body passed ${bytes} bytes.`);
  }
}

/**
 * The body as UTF-8 text, failing with `BodyTooLarge` as soon as it passes `maxBytes` (chunked
 * bodies have no length up front); the rest is not read (the request is destroyed, as a
 * cancelled web stream of it would be).
 */
export async function readBodyText(context: Context, maxBytes: number): Promise<string> {
  const incoming = (context.env as NodeBindings | undefined)?.incoming;
  if (incoming === undefined) return readWebBody(context.req.raw.body, maxBytes);
  if (context.req.method === "GET" || context.req.method === "HEAD") return "";
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    // Leaving the loop destroys the request (the async iterator's return).
    if (total > maxBytes) throw new BodyTooLarge(total);
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!.toString("utf8");
  return Buffer.concat(chunks, total).toString("utf8");
}

async function readWebBody(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new BodyTooLarge(total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

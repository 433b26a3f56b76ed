/**
 * Writes a stream's frames straight to Node's `ServerResponse` (ADR 0043, "The write path"):
 * no `ReadableStream`, no adapter reader loop, no look-ahead over microtask turns. Frames that
 * come in the same turn (one runner message carries several tokens) are joined and leave in one
 * `write` on the next tick. Backpressure is `write()`'s return value: while the socket buffer is
 * over its high-water mark the loop does not ask for the next frame, so the runner pauses, and
 * 'drain' resumes it. The route returns a response marked `x-hono-already-sent` whose body is
 * a never-read marker stream (see `markerStreams`); `withDirectStreams` (around the app's fetch) starts the writer once the middleware chain has
 * finished, with the final response's headers (request id, CORS, ...), so none is lost, and
 * hands the adapter a body-less response in its place.
 * Under `app.request()` (no Node response) the route falls back to `frameStream`.
 */
import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import { systemTime, type TimePort, type Timer } from "../core/index.js";
import type { ApiEnv } from "./deps.js";
import { frameStream, startHeartbeat, streamHeaders, type FrameStreamOptions } from "./event-stream.js";
import { SocketLending, type SocketLender } from "./socket-lending.js";

/** Frames joined into one write at most (a source that never yields still sees backpressure). */
const maxFramesPerWrite = 64;
const alreadySentHeader = "x-hono-already-sent";
const startSlot = Symbol("rawrxd.frameWriter");

/** Starts the writer with the final response; false when it did not (the response is not this stream's). */
type Starter = (response: Response) => boolean;
interface SlotHolder {
  [startSlot]?: Starter | null;
}

/** What @hono/node-server passes as the request's env; absent under `app.request()`. */
interface NodeBindings {
  outgoing?: ServerResponse & SlotHolder;
}

/**
 * Wraps the app's fetch for @hono/node-server: a route that chose the direct write path gets
 * its writer started with the response the whole middleware chain produced.
 */
export function withDirectStreams<Env>(
  fetch: (request: Request, env?: Env) => Response | Promise<Response>,
): (request: Request, env?: Env) => Promise<Response> {
  return async (request, env) => {
    const outgoing = (env as NodeBindings | undefined)?.outgoing;
    if (outgoing !== undefined) outgoing[startSlot] = null;
    const takeStarter = (): Starter | null | undefined => {
      const start = outgoing?.[startSlot];
      if (outgoing !== undefined) delete outgoing[startSlot];
      return start;
    };
    let response: Response;
    try {
      response = await fetch(request, env);
    } catch (error) {
      // No response will be written: a stream's frames are let go (the generation ends).
      takeStarter()?.(new Response(null, { status: 500 }));
      throw error;
    }
    // The writer owns the response now: the adapter gets a body-less "already sent" one.
    return takeStarter()?.(response) === true ? alreadySent : response;
  };
}

/**
 * The body of a direct stream's response is a marker stream that is never read: any body with
 * `getReader` keeps @hono/node-server's lightweight `Response` from building an undici one
 * (status and headers come from its cache; building it was ~4 % of a one-token request's main-
 * thread CPU, ADR 0054). The adapter never sees it (`withDirectStreams` hands it `alreadySent`
 * instead), and a response Hono re-creates around it keeps the same stream as its body. One per
 * response, so that nothing one response does to it can touch another.
 */
const markerStreams = new WeakSet<object>();
const ownResponses = new WeakSet<Response>();
/** What the adapter gets for a stream the writer took: no body, nothing more to write. */
const alreadySent = {
  status: 200,
  headers: new Headers({ [alreadySentHeader]: "true" }),
  body: null,
} as unknown as Response;

export interface RespondOptions extends FrameStreamOptions {
  contentType: string;
  requestId: string;
  /** Lends the socket to the runner for the text frames (ADR 0056); undefined: not eligible. */
  lend?: SocketLender | undefined;
}

/** The streamed response for `frames`: written directly when the Node response is at hand. */
export function respondWithFrames(
  context: Context<ApiEnv>,
  frames: AsyncIterator<string>,
  options: RespondOptions,
): Response {
  const headers = streamHeaders(options.contentType, options.requestId);
  const outgoing = (context.env as NodeBindings | undefined)?.outgoing;
  if (outgoing?.[startSlot] !== null || outgoing === undefined) {
    return new Response(frameStream(frames, options), { headers });
  }
  outgoing[startSlot] = (response) => {
    // Hono re-creates a finalized response around the same body when a middleware sets a
    // header after the route (the marker header is copied along): still this stream's.
    const isThisStream =
      ownResponses.has(response) || (response.body !== null && markerStreams.has(response.body));
    if (!isThisStream || !response.headers.has(alreadySentHeader)) {
      // A later middleware replaced the response (an error, another body): the adapter writes
      // that one, and these frames will never be read.
      options.onCancel();
      void frames.return?.();
      return false;
    }
    void writeFrames(outgoing, response, { ...options, frames, lend: options.lend });
    return true;
  };
  const marker = new ReadableStream();
  markerStreams.add(marker);
  const response = new Response(marker, { headers: { ...headers, [alreadySentHeader]: "true" } });
  ownResponses.add(response);
  return response;
}

function headRecord(response: Response): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    if (name === alreadySentHeader) continue;
    if (name === "set-cookie") record[name] = response.headers.getSetCookie();
    else record[name] = value;
  }
  return record;
}

async function writeFrames(
  outgoing: ServerResponse,
  response: Response,
  options: FrameStreamOptions & { frames: AsyncIterator<string>; lend: SocketLender | undefined },
): Promise<void> {
  const frames = options.frames;
  const lending = options.lend === undefined ? undefined : new SocketLending(options.lend, outgoing);
  const time: TimePort = options.time ?? systemTime;
  const signal = options.clientSignal;
  let isFinished = false;
  let pending = "";
  let isFlushScheduled = false;
  let pendingFrames = 0;
  let lastWriteMs = time.monotonicNow();
  let heartbeatTimer: Timer | undefined;
  /** Settles on 'drain' or when the client goes away, while the socket buffer is full. */
  let drained: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  /** After a write has left: the socket may go to the runner if nothing else waits (ADR 0056). */
  const offerSocket = (): void =>
    lending?.offer(
      !isFinished && !isEnded && pending.length === 0 && !isFlushScheduled && drained === undefined,
    );
  const write = (text: string): void => {
    lastWriteMs = time.monotonicNow();
    const isBelowMark = lending === undefined ? outgoing.write(text) : outgoing.write(text, offerSocket);
    if (isBelowMark || drained !== undefined) return;
    drained = new Promise<void>((resolve) => {
      wake = resolve;
      outgoing.once("drain", () => resolve());
    }).then(() => {
      drained = undefined;
      wake = undefined;
    });
  };
  /** The head leaves with the first frames (one write, ADR 0048), or alone when none is ready. */
  let isHeadOut = false;
  let isEnded = false;
  const flush = (): void => {
    isFlushScheduled = false;
    pendingFrames = 0;
    if (outgoing.destroyed || isEnded) return;
    if (pending.length === 0) {
      if (!isHeadOut) outgoing.flushHeaders();
      isHeadOut = true;
      return;
    }
    isHeadOut = true;
    const text = pending;
    pending = "";
    write(text);
  };
  /** The last frames and the body's end in one write. */
  const end = (): void => {
    isEnded = true;
    if (outgoing.destroyed) return;
    const text = pending;
    pending = "";
    if (text.length > 0) outgoing.end(text);
    else outgoing.end();
  };
  const finish = (): void => {
    if (isFinished) return;
    isFinished = true;
    heartbeatTimer?.cancel();
    signal.removeEventListener("abort", onClientGone);
    wake?.();
  };
  const onClientGone = (): void => {
    if (isFinished) return;
    finish();
    options.onCancel();
    void frames.return?.();
  };
  outgoing.writeHead(response.status, headRecord(response));
  if (signal.aborted) {
    outgoing.flushHeaders();
    onClientGone();
    return;
  }
  // The route already holds the first event: its frames join the head in the tick's one write.
  isFlushScheduled = true;
  process.nextTick(flush);
  signal.addEventListener("abort", onClientGone, { once: true });
  const heartbeat = options.heartbeat;
  if (heartbeat !== undefined) {
    heartbeatTimer = startHeartbeat({
      heartbeat,
      time,
      lastWriteMs: () => lastWriteMs,
      canSend: () => !isFinished && drained === undefined && pending.length === 0 && lending?.isBusy !== true,
      send: () => write(heartbeat.frame),
    });
  }
  try {
    while (!isFinished) {
      if (drained !== undefined) await drained;
      if (isFinished) break;
      const result = await frames.next();
      // The runner let the socket go before the event behind this frame was sent.
      if (lending?.isBusy === true) await lending.settled();
      if (isFinished || result.done === true) break;
      pending += result.value;
      if (++pendingFrames >= maxFramesPerWrite) flush();
      else if (!isFlushScheduled) {
        isFlushScheduled = true;
        process.nextTick(flush);
      }
    }
    // Also after a cancel (the client's signal): what was written stays, the body ends, once
    // a runner holding the socket has let it go.
    finish();
    await lending?.settled();
    end();
  } catch (error) {
    finish();
    outgoing.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

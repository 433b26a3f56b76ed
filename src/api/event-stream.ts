/**
 * Turns an async sequence of text frames into a pull-based ReadableStream. The HTTP server
 * pulls only when the socket has drained, and each pull takes one frame from the generation,
 * so a slow reader pauses the runner (backpressure end to end). While the generation is
 * silent longer than `heartbeatMs`, a heartbeat frame goes out (SSE comment). Per frame there
 * is no timer work: one interval per stream checks for silence. Frames that arrive together
 * (a runner message carries several tokens when they come fast) leave in one socket write,
 * each still its own SSE event or NDJSON line (ADR 0019). Inference streams served by Node go
 * through src/api/frame-writer.ts instead; this is its fallback (`app.request()`) and /api/pull's body.
 */
import { systemTime, type TimePort, type Timer } from "../core/index.js";

/**
 * Microtask turns a frame already produced upstream may take to come through the async
 * generators between the runner's channel and here: 8 measured on /v1/completions, so 3× that.
 * A frame that needs longer, or real I/O, simply goes out in the next write.
 */
const readyFrameTurns = 24;
/** Frames joined into one write at most. */
const maxFramesPerWrite = 64;

/** True when `promise` settles within `turns` microtask turns (it has nothing to wait for). */
async function settlesWithin(promise: Promise<unknown>, turns: number): Promise<boolean> {
  let isSettled = false;
  const settle = (): void => {
    isSettled = true;
  };
  promise.then(settle, settle);
  for (let turn = 0; turn < turns && !isSettled; turn++) await Promise.resolve();
  return isSettled;
}

export interface FrameStreamOptions {
  heartbeat?: Heartbeat | undefined;
  /** Called once when the client goes away before the frames end. */
  onCancel: () => void;
  /**
   * The client's request signal. The HTTP adapter only watches the socket once it starts
   * writing the body, so a client that leaves before the first frame must end the frames here,
   * or the generation's sequence would stay held.
   */
  clientSignal: AbortSignal;
  /** Runs the heartbeat timer and measures silence. Default `systemTime`. */
  time?: TimePort;
}

export interface Heartbeat {
  intervalMs: number;
  frame: string;
}

/**
 * A stream's silence heartbeat: one interval per stream (a quarter of the heartbeat's, 10 ms at
 * least), no timer work per frame. It sends when nothing was written for `intervalMs` and
 * `canSend()` (only into an empty buffer: a reader that stopped reading finds one heartbeat, not
 * one per interval). Shared by `frameStream` and the direct frame writer.
 */
export function startHeartbeat(options: {
  heartbeat: Heartbeat;
  time: TimePort;
  lastWriteMs: () => number;
  canSend: () => boolean;
  send: () => void;
}): Timer {
  const { heartbeat, time } = options;
  return time
    .setInterval(
      () => {
        if (!options.canSend() || time.monotonicNow() - options.lastWriteMs() < heartbeat.intervalMs) return;
        options.send();
      },
      Math.max(10, heartbeat.intervalMs / 4),
    )
    .unref();
}

/** Headers for a streamed body: chunked up front, so the adapter sends them without reading ahead. */
export function streamHeaders(contentType: string, requestId: string): Record<string, string> {
  return {
    "Content-Type": contentType,
    "Cache-Control": "no-cache",
    "Transfer-Encoding": "chunked",
    "X-Request-Id": requestId,
  };
}

export function frameStream(
  frames: AsyncIterator<string>,
  options: FrameStreamOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let isFinished = false;
  const time = options.time ?? systemTime;
  let lastFrameMs = time.monotonicNow();
  let heartbeatTimer: Timer | undefined;
  /** A frame asked for in the last pull that was not ready yet. */
  let following: Promise<IteratorResult<string>> | undefined;
  const stopHeartbeat = (): void => heartbeatTimer?.cancel();
  const finish = async (): Promise<void> => {
    if (isFinished) return;
    isFinished = true;
    stopHeartbeat();
    options.clientSignal.removeEventListener("abort", onClientGone);
    options.onCancel();
    await frames.return?.();
  };
  const onClientGone = (): void => void finish();
  if (options.clientSignal.aborted) onClientGone();
  else options.clientSignal.addEventListener("abort", onClientGone, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const heartbeat = options.heartbeat;
        if (heartbeat === undefined || isFinished) return;
        const frame = encoder.encode(heartbeat.frame);
        heartbeatTimer = startHeartbeat({
          heartbeat,
          time,
          lastWriteMs: () => lastFrameMs,
          canSend: () => !isFinished && (controller.desiredSize ?? -1) >= 0,
          send: () => {
            lastFrameMs = time.monotonicNow();
            controller.enqueue(frame);
          },
        });
      },
      async pull(controller) {
        const first = await (following ?? frames.next());
        following = undefined;
        let text = first.done === true ? "" : first.value;
        let isDone = first.done === true;
        // Frames already on their way join this write; one that is not stays for the next pull.
        for (let count = 1; !isDone && count < maxFramesPerWrite; count++) {
          const next = frames.next();
          if (!(await settlesWithin(next, readyFrameTurns))) {
            following = next;
            break;
          }
          const result = await next;
          if (result.done === true) isDone = true;
          else text += result.value;
        }
        lastFrameMs = time.monotonicNow();
        if (text.length > 0) controller.enqueue(encoder.encode(text));
        if (isDone) {
          isFinished = true;
          stopHeartbeat();
          options.clientSignal.removeEventListener("abort", onClientGone);
          controller.close();
        }
      },
      async cancel() {
        await finish();
      },
    },
    { highWaterMark: 0 },
  );
}

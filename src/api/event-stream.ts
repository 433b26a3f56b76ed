/**
 * Turns an async sequence of text frames into a pull-based ReadableStream. The HTTP server
 * pulls only when the socket has drained, and each pull takes one frame from the generation,
 * so a slow reader pauses the runner (backpressure end to end). While the generation is
 * silent longer than `heartbeatMs`, a heartbeat frame goes out (SSE comment). Per frame there
 * is no timer work: one interval per stream checks for silence.
 */
import { systemTime, type TimePort, type Timer } from "../core/index.js";

export interface FrameStreamOptions {
  heartbeat?: { intervalMs: number; frame: string } | undefined;
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
        heartbeatTimer = time
          .setInterval(
            () => {
              // Only into an empty queue: a reader that stopped reading finds one heartbeat, not one per interval.
              if (
                isFinished ||
                (controller.desiredSize ?? -1) < 0 ||
                time.monotonicNow() - lastFrameMs < heartbeat.intervalMs
              )
                return;
              lastFrameMs = time.monotonicNow();
              controller.enqueue(frame);
            },
            Math.max(10, heartbeat.intervalMs / 4),
          )
          .unref();
      },
      async pull(controller) {
        const next = await frames.next();
        lastFrameMs = time.monotonicNow();
        if (next.done) {
          isFinished = true;
          stopHeartbeat();
          options.clientSignal.removeEventListener("abort", onClientGone);
          controller.close();
        } else {
          controller.enqueue(encoder.encode(next.value));
        }
      },
      async cancel() {
        await finish();
      },
    },
    { highWaterMark: 0 },
  );
}

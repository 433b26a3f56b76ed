/**
 * Turns an async sequence of text frames into a pull-based ReadableStream. The HTTP server
 * pulls only when the socket has drained, and each pull takes one frame from the generation,
 * so a slow reader pauses the runner (backpressure end to end). While the generation is
 * silent longer than `heartbeatMs`, a heartbeat frame goes out (SSE comment).
 */
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
}

export function frameStream(frames: AsyncIterator<string>, options: FrameStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let pending: Promise<IteratorResult<string>> | undefined;
  let isFinished = false;
  const finish = async (): Promise<void> => {
    if (isFinished) return;
    isFinished = true;
    options.clientSignal.removeEventListener("abort", onClientGone);
    options.onCancel();
    await frames.return?.();
  };
  const onClientGone = (): void => void finish();
  if (options.clientSignal.aborted) onClientGone();
  else options.clientSignal.addEventListener("abort", onClientGone, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        pending ??= frames.next();
        const heartbeat = options.heartbeat;
        let timer: NodeJS.Timeout | undefined;
        const tick = heartbeat === undefined ? undefined : new Promise<"tick">((resolve) => (timer = setTimeout(() => resolve("tick"), heartbeat.intervalMs)));
        try {
          const winner = await (tick === undefined ? pending : Promise.race([pending, tick]));
          if (winner === "tick") {
            controller.enqueue(encoder.encode(heartbeat!.frame));
            return;
          }
          pending = undefined;
          if (winner.done) {
            isFinished = true;
            options.clientSignal.removeEventListener("abort", onClientGone);
            controller.close();
          } else {
            controller.enqueue(encoder.encode(winner.value));
          }
        } finally {
          clearTimeout(timer);
        }
      },
      async cancel() {
        await finish();
      },
    },
    { highWaterMark: 0 },
  );
}

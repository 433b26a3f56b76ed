/** The variants of `npm run bench:ipc-floor` and the message and frame they all carry. */

export const floorVariants = [
  "ipc-json",
  "ipc-advanced",
  "uds-json",
  "uds-frame",
  "uds-raw-tcp",
  "handover",
] as const;
export type FloorVariant = (typeof floorVariants)[number];

/** What each variant's server (the "main" process) does per message. */
export const variantDescriptions: Record<FloorVariant, string> = {
  "ipc-json":
    "fork() IPC channel, JSON serialization (RawrXD today); JSON frame per event, res.write (http chunked)",
  "ipc-advanced": "fork() IPC channel, serialization 'advanced' (V8 serializer); same frame and res.write",
  "uds-json": "unix socket, one JSON line per message; JSON.parse, JSON frame, res.write",
  "uds-frame": "unix socket carrying the ready SSE frame bytes (no JSON in main); res.write(bytes)",
  "uds-raw-tcp":
    "unix socket with ready frames; one socket.write of the received bytes to the raw TCP socket (no http module)",
  handover: "client TCP socket handed to the child (child.send(msg, socket)); the child writes frames itself",
};

export interface FloorMessage {
  type: "events";
  events: {
    id: string;
    event: { type: "text-delta"; text: string; tokenCount: number; tokenIds: number[] };
  }[];
}

/** A runner's `events` message: one generation's text-delta of ~6 tokens (a 50 ms window at 134M). */
export function eventsMessage(index: number): FloorMessage {
  return {
    type: "events",
    events: [
      {
        id: "req-1",
        event: {
          type: "text-delta",
          text: ` the little girl ${index % 10}`,
          tokenCount: 6,
          tokenIds: [1, 2, 3, 4, 5, index],
        },
      },
    ],
  };
}

/** The /v1/completions SSE frame of one text piece, as the server writes it. */
export function sseFrame(text: string, created: number): string {
  return `data: ${JSON.stringify({
    id: "cmpl-req-1",
    object: "text_completion",
    created,
    model: "synthetic-llama-134m",
    choices: [{ index: 0, text, logprobs: null, finish_reason: null }],
  })}\n\n`;
}

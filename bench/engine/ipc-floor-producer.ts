/**
 * The "runner" of `npm run bench:ipc-floor`: sends `count` messages, one every `intervalMs`, over
 * the variant's transport, then says it is done. Started by ipc-floor-server.ts (never alone).
 * Its own CPU is not measured; what it sends is what a runner's `events` message carries.
 *
 * argv: variant count intervalMs [socketPath]
 */
import { connect, type Socket } from "node:net";
import { systemTime } from "../../src/core/index.js";
import { eventsMessage, sseFrame, type FloorVariant } from "./ipc-floor-variants.js";

const [variant, countText, intervalText, socketPath] = process.argv.slice(2) as [
  FloorVariant,
  string,
  string,
  string | undefined,
];
const count = Number(countText);
const intervalMs = Number(intervalText);

/** Runs `send(index)` `count` times on the interval, then `done()`. */
function everyInterval(send: (index: number) => void, done: () => void): void {
  let index = 0;
  const timer = systemTime.setInterval(() => {
    send(index);
    index += 1;
    if (index >= count) {
      timer.cancel();
      done();
    }
  }, intervalMs);
}

function overIpc(): void {
  // Starts on the server's "go": the HTTP response is open by then.
  process.once("message", () =>
    everyInterval(
      (index) => process.send!(eventsMessage(index)),
      () => process.send!({ type: "done" }, () => process.disconnect()),
    ),
  );
}

function overSocket(): void {
  const socket = connect(socketPath!);
  socket.setNoDelay(true);
  socket.once("data", () => {
    if (variant === "uds-json")
      everyInterval(
        (index) => socket.write(JSON.stringify(eventsMessage(index)) + "\n"),
        () => socket.end(),
      );
    else {
      // The frame is built here, as a runner would build it: the server only forwards bytes.
      everyInterval(
        (index) => socket.write(sseFrame(eventsMessage(index).events[0]!.event.text, index)),
        () => socket.end(),
      );
    }
  });
}

/** The client's socket itself, handed over by the server: frames go from here straight to it. */
function handedOver(): void {
  process.once("message", (_message, handle) => {
    const client = handle as Socket;
    client.setNoDelay(true);
    everyInterval(
      (index) => client.write(sseFrame(eventsMessage(index).events[0]!.event.text, index)),
      () => {
        client.end();
        process.disconnect();
      },
    );
  });
}

/** The one-token request floor: every `generate` is answered by a text-delta and an end message. */
function answerRequests(): void {
  process.on("message", (message: { type: string; id: string }, handle) => {
    if (message.type === "generate-here") {
      writeHere(message.id, handle as Socket);
      return;
    }
    if (message.type !== "generate") return;
    process.send!({ type: "events", events: [{ id: message.id, event: eventsMessage(0).events[0]!.event }] });
    process.send!({ type: "events", events: [{ id: message.id, event: { type: "end", reason: "length" } }] });
  });
}

/** The request's frames as HTTP chunks on the client's own socket; the main process ends the body. */
function writeHere(id: string, client: Socket): void {
  client.pause();
  const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  client.write(chunk(sseFrame(eventsMessage(0).events[0]!.event.text, 1_796_000_000)));
  client.write(chunk(`${sseFrame("", 1_796_000_000)}data: [DONE]\n\n`), () => {
    // Closes this process's copy of the descriptor only: no FIN, the connection stays open.
    client.destroy();
    process.send!({ type: "events", events: [{ id, event: { type: "end", reason: "length" } }] });
  });
}

if (process.argv[2] === "request") answerRequests();
else if (variant === "ipc-json" || variant === "ipc-advanced") overIpc();
else if (variant === "handover") handedOver();
else overSocket();

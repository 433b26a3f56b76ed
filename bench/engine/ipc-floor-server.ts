/**
 * The "main" process of `npm run bench:ipc-floor`: starts its producer (the "runner") at once,
 * listens on 127.0.0.1 port 0 (prints `listening PORT`), answers one streaming request by
 * forwarding the producer's messages to the client as SSE frames over the variant's path; then
 * waits to be ended (SIGTERM), so that the bench reads its CPU from /proc after the stream.
 *
 * argv: variant count intervalMs
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemTime } from "../../src/core/index.js";
import { sseFrame, type FloorMessage, type FloorVariant } from "./ipc-floor-variants.js";

const [variant, count, intervalMs] = process.argv.slice(2) as [FloorVariant, string, string];
const producerPath = fileURLToPath(new URL("./ipc-floor-producer.ts", import.meta.url));
const rawHead =
  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
const created = 1_796_000_000;
const socketDirectory = mkdtempSync(join(tmpdir(), "rawrxd-ipc-floor-"));
const socketPath = join(socketDirectory, "producer.sock");

/** The frames of one runner message, written as RawrXD's route writes them: one SSE event per event. */
function writeMessage(response: ServerResponse, message: FloorMessage): void {
  for (const { event } of message.events) response.write(sseFrame(event.text, created));
}

function forkProducer(serialization: "json" | "advanced"): ChildProcess {
  return fork(producerPath, [variant, count, intervalMs], {
    execArgv: ["--import", "tsx"],
    serialization,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** Listens on the unix socket, starts the producer and resolves with its connection. */
function producerSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    const server = createNetServer((socket) => {
      socket.setNoDelay(true);
      server.close();
      resolve(socket);
    });
    server.listen(socketPath, () => {
      spawn(process.execPath, ["--import", "tsx", producerPath, variant, count, intervalMs, socketPath], {
        stdio: ["ignore", "inherit", "inherit"],
      });
    });
  });
}

/** Reads a request's head from a raw connection; calls `then` once it is complete. */
function onRequestHead(client: Socket, then: () => void): void {
  let head = "";
  const onData = (chunk: Buffer): void => {
    head += chunk.toString("latin1");
    if (!head.includes("\r\n\r\n")) return;
    client.off("data", onData);
    then();
  };
  client.on("data", onData);
}

/** The stream ended: the process stays (idle, one far timer) until the bench has read its counters and ends it. */
function finish(server: Server): void {
  server.close();
  rmSync(socketDirectory, { recursive: true, force: true });
  systemTime.setTimeout(() => undefined, 60_000);
}

async function start(): Promise<Server> {
  if (variant === "ipc-json" || variant === "ipc-advanced") {
    const child = forkProducer(variant === "ipc-json" ? "json" : "advanced");
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      child.on("message", (message: FloorMessage | { type: "done" }) => {
        if (message.type === "done") {
          response.end();
          finish(server);
        } else writeMessage(response, message);
      });
      child.send({ type: "go" });
    });
    return server;
  }
  if (variant === "handover") {
    const child = forkProducer("json");
    const server = createNetServer((client) => {
      onRequestHead(client, () => {
        client.write(rawHead, () => {
          child.send({ type: "socket" }, client);
          finish(server);
        });
      });
    });
    return server;
  }
  const producer = await producerSocket();
  if (variant === "uds-raw-tcp") {
    const server = createNetServer((client) => {
      client.setNoDelay(true);
      onRequestHead(client, () => {
        client.write(rawHead);
        producer.on("data", (chunk: Buffer) => client.write(chunk));
        producer.on("end", () => {
          client.end();
          finish(server);
        });
        producer.write("g");
      });
    });
    return server;
  }
  const server = createHttpServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    producer.on("end", () => {
      response.end();
      finish(server);
    });
    if (variant === "uds-frame") producer.on("data", (chunk: Buffer) => response.write(chunk));
    else {
      let buffered = "";
      producer.setEncoding("utf8");
      producer.on("data", (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf("\n");
        while (newline !== -1) {
          writeMessage(response, JSON.parse(buffered.slice(0, newline)) as FloorMessage);
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
        }
      });
    }
    producer.write("g");
  });
  return server;
}

const server = await start();
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address !== null ? address.port : 0}\n`);
});

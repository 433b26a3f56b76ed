/**
 * The one-token request floor of `npm run bench:ipc-floor` (ADR 0054): a bare Node server that
 * does, per streamed one-token POST, what RawrXD's main process cannot avoid — read and parse
 * the JSON body, send a `generate` message over the IPC channel to a child, receive its
 * text-delta and end messages, write the head with the first SSE frame and the last frame with
 * the body's end — and, with `audit`, append one line to a file and fdatasync it before the end
 * (ADR 0014's record before the response) — on the libuv pool as RawrXD does, or with
 * `audit-sync` as `fdatasyncSync` on the main thread (what the pool round trip costs). No
 * framework, no validation, no scheduler. Prints `listening PORT`; runs until ended.
 *
 * `request-handover`: the main process writes the head, hands the client's socket to the child
 * for the request (`child.send(message, socket, { keepOpen: true })`: both hold the connection),
 * the child writes the frames as HTTP chunks and says `end`, and the main process writes the
 * last chunk; the connection stays keep-alive in the main process (ADR 0054).
 *
 * argv: request | request-audit | request-audit-sync | request-handover
 */
import { fork } from "node:child_process";
import { fdatasyncSync, mkdtempSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sseFrame } from "./ipc-floor-variants.js";

const mode = process.argv[2] as "request" | "request-audit" | "request-audit-sync" | "request-handover";
const producerPath = fileURLToPath(new URL("./ipc-floor-producer.ts", import.meta.url));
const child = fork(producerPath, ["request", "0", "0"], {
  execArgv: ["--import", "tsx"],
  stdio: ["ignore", "inherit", "inherit", "ipc"],
});
const auditPath = join(mkdtempSync(join(tmpdir(), "rawrxd-ipc-floor-")), "audit.jsonl");
const auditFd = openSync(auditPath, "a");
const auditHandle = await open(auditPath, "a");
const open_ = new Map<string, ServerResponse>();
let nextId = 0;

interface ChildMessage {
  type: "events";
  events: { id: string; event: { type: string; text?: string } }[];
}

child.on("message", (message: ChildMessage) => {
  for (const { id, event } of message.events) {
    const response = open_.get(id);
    if (response === undefined) continue;
    if (event.type === "text-delta") {
      response.write(sseFrame(event.text!, 1_796_000_000));
      continue;
    }
    open_.delete(id);
    const last = `${sseFrame("", 1_796_000_000)}data: [DONE]\n\n`;
    if (mode === "request-handover") {
      response.end();
      continue;
    }
    if (mode === "request") {
      response.end(last);
      continue;
    }
    writeSync(auditFd, `${JSON.stringify({ id, action: "inference", outcome: "ok" })}\n`);
    if (mode === "request-audit-sync") {
      fdatasyncSync(auditFd);
      response.end(last);
    } else void auditHandle.datasync().then(() => response.end(last));
  }
});

const server = createServer((request, response) => {
  void (async () => {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const id = `req-${nextId++}`;
    open_.set(id, response);
    response.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      "X-Request-Id": id,
    });
    if (mode !== "request-handover") {
      child.send({ type: "generate", id, request: parsed });
      return;
    }
    response.flushHeaders();
    const socket = response.socket!;
    const handOver = (): void => {
      child.send({ type: "generate-here", id, request: parsed }, socket, { keepOpen: true });
    };
    if (socket.writableLength === 0) handOver();
    else socket.once("drain", handOver);
  })();
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address !== null ? address.port : 0}\n`);
});

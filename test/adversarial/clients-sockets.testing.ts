/**
 * Raw client sockets (node:net) for slow and hostile clients: the test decides what goes on the
 * wire and when, and sees what the server sends and when it closes.
 */
import { connect, type Socket } from "node:net";
import { systemTime } from "../../src/core/index.js";

export interface RawClient {
  socket: Socket;
  /** Everything received so far, as latin1 text. */
  received(): string;
  /** Settles when the server (or the test) closes the connection; with the ms it stayed open. */
  closed: Promise<{ openMs: number; hadError: boolean }>;
}

export function openClient(url: string): Promise<RawClient> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const openedMs = systemTime.monotonicNow();
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // A reset is part of what a test observes (`hadError`), not a failure of the helper.
    socket.on("error", () => {});
    const closed = new Promise<{ openMs: number; hadError: boolean }>((done) =>
      socket.once("close", (hadError) => done({ openMs: systemTime.monotonicNow() - openedMs, hadError })),
    );
    socket.once("connect", () =>
      resolve({ socket, received: () => Buffer.concat(chunks).toString("latin1"), closed }),
    );
    socket.once("error", reject);
  });
}

/** Writes `parts` one by one, `gapMs` apart, until they run out or the socket closes. */
export async function dribble(client: RawClient, parts: readonly string[], gapMs: number): Promise<number> {
  let sent = 0;
  for (const part of parts) {
    if (client.socket.destroyed || client.socket.writableEnded) break;
    client.socket.write(part);
    sent += 1;
    await systemTime.sleep(gapMs);
  }
  return sent;
}

/** The status code of a raw HTTP response, or undefined before one arrived. */
export function statusOf(raw: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
  return match === null ? undefined : Number(match[1]);
}

/** This process's open file descriptors (Linux), for leak checks. */
export async function openFdCount(): Promise<number> {
  const { readdir } = await import("node:fs/promises");
  return (await readdir("/proc/self/fd")).length;
}

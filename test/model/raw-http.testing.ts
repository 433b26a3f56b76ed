/**
 * A raw HTTP/1.1 client for tests that need the connection itself: several requests on one
 * keep-alive socket (sent one after another or pipelined), the bytes exactly as they came, and a
 * strict reader of chunked responses (a torn or malformed chunk fails the test).
 */
import { connect, type Socket } from "node:net";
import { waitFor } from "../support/wait-for.js";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The de-chunked body. */
  body: string;
  /** The chunk sizes as they came (a strictly valid chunked encoding). */
  chunks: number[];
}

export function postRequest(host: string, path: string, body: unknown): string {
  const text = JSON.stringify(body);
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}

/** A keep-alive connection whose received bytes accumulate in `raw`. */
export class RawConnection {
  readonly socket: Socket;
  raw = Buffer.alloc(0);
  isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (data: Buffer) => (this.raw = Buffer.concat([this.raw, data])));
    socket.on("close", () => (this.isClosed = true));
    socket.on("error", () => undefined);
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawConnection(socket);
  }

  send(request: string): void {
    this.socket.write(request);
  }

  /** Waits until `count` complete responses came, and returns them. */
  async responses(count: number, timeoutMs = 20_000): Promise<RawResponse[]> {
    return waitFor(
      () => {
        const responses = parseResponses(this.raw);
        return responses.length >= count ? responses : undefined;
      },
      `${count} responses`,
      timeoutMs,
    );
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Every complete response in `raw`; throws on a malformed head or chunk. */
export function parseResponses(raw: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (headEnd < 0) return responses;
    const lines = raw.subarray(at, headEnd).toString("latin1").split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? "");
    if (status === null) throw new Error(`Not a response head: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let position = headEnd + 4;
    const parts: Buffer[] = [];
    const chunks: number[] = [];
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (raw.length < position + length) return responses;
      parts.push(raw.subarray(position, position + length));
      position += length;
    } else {
      if (headers["transfer-encoding"] !== "chunked") throw new Error("Neither chunked nor sized");
      for (;;) {
        const sizeEnd = raw.indexOf("\r\n", position);
        if (sizeEnd < 0) return responses;
        const sizeText = raw.subarray(position, sizeEnd).toString("latin1");
        if (!/^[0-9a-f]+$/.test(sizeText)) throw new Error(`Bad chunk size ${JSON.stringify(sizeText)}`);
        const size = parseInt(sizeText, 16);
        if (raw.length < sizeEnd + 2 + size + 2) return responses;
        const data = raw.subarray(sizeEnd + 2, sizeEnd + 2 + size);
        if (raw.subarray(sizeEnd + 2 + size, sizeEnd + 4 + size).toString("latin1") !== "\r\n")
          throw new Error("A chunk does not end with CRLF");
        position = sizeEnd + 4 + size;
        if (size === 0) break;
        chunks.push(size);
        parts.push(data);
      }
    }
    responses.push({
      status: Number(status[1]),
      headers,
      body: Buffer.concat(parts).toString("utf8"),
      chunks,
    });
    at = position;
  }
}

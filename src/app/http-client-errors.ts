/**
 * What a client gets when Node's HTTP parser refuses its request before any route runs: headers
 * too large (431), headers or the whole request too slow (408, --header-timeout and
 * --request-timeout), a malformed request line or header (400). Node's own answer has no body;
 * this one carries the same JSON error body as every route, and never the parser's internals.
 */
import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { dialectOf, errorBody, type Dialect } from "../api/index.js";
import { AppError } from "../core/index.js";

const reasons: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/** The status and error for a parser error code (`HPE_*`, `ERR_HTTP_REQUEST_TIMEOUT`). */
export function clientErrorOf(
  code: string | undefined,
  limits: { maxHeaderBytes: number },
): { status: number; error: AppError } {
  if (code === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      error: new AppError(
        "headers-too-large",
        `The request headers are larger than ${limits.maxHeaderBytes} bytes (--max-header-bytes); send fewer or shorter headers.`,
      ),
    };
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "HPE_HEADER_TIMEOUT")
    return {
      status: 408,
      error: new AppError(
        "request-timeout",
        "The request did not arrive in time (--header-timeout, --request-timeout); send it again without pausing.",
      ),
    };
  return {
    status: 400,
    error: new AppError(
      "bad-request",
      `The request is not valid HTTP/1.1 (${code ?? "parse error"}); check the request line, headers and chunked encoding.`,
    ),
  };
}

/** The method and path of what the parser had read, when its request line is complete. */
export function requestLineOf(rawPacket: Buffer | undefined): { method: string; path: string } | undefined {
  const line = rawPacket?.subarray(0, 8192).toString("latin1").split("\r\n", 1)[0];
  const match = line === undefined ? null : /^([A-Z]+) (\/\S*) HTTP\/1\.[01]$/.exec(line);
  return match === null ? undefined : { method: match[1]!, path: match[2]! };
}

/** The raw HTTP response written on the socket, in the dialect of its path; a HEAD request gets the headers only. */
export function clientErrorResponse(
  status: number,
  error: AppError,
  options: { isHead: boolean; dialect: Dialect },
): string {
  const body = JSON.stringify(errorBody(error, options.dialect));
  return [
    `HTTP/1.1 ${status} ${reasons[status] ?? "Bad Request"}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    options.isHead ? "" : body,
  ].join("\r\n");
}

/** Answers parser errors with a JSON body; a connection already answering or gone is only closed. */
export function answerClientErrors(server: Server, limits: { maxHeaderBytes: number }): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Mid-response (Node's own check), a reset, or a socket that cannot take a write: nothing to say.
    const response = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || response?.headersSent === true) {
      socket.destroy();
      return;
    }
    const { status, error: sent } = clientErrorOf(error.code, limits);
    // What the parser had read: a HEAD request gets no body; /api paths get Ollama's error shape.
    const request = requestLineOf((error as { rawPacket?: Buffer }).rawPacket);
    socket.end(
      clientErrorResponse(status, sent, {
        isHead: request?.method === "HEAD",
        dialect: request === undefined ? "native" : dialectOf(request.path),
      }),
    );
  });
}

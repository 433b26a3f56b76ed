/**
 * What a client gets when Node's HTTP parser refuses its request before any route runs: headers
 * too large (431), headers or the whole request too slow (408, --header-timeout and
 * --request-timeout), a malformed request line or header (400). Node's own answer has no body;
 * this one carries the same JSON error body as every route, and never the parser's internals.
 */
import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { errorBody } from "../api/index.js";
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

/** The raw HTTP response written on the socket; a HEAD request gets the headers only. */
export function clientErrorResponse(status: number, error: AppError, options: { isHead: boolean }): string {
  const body = JSON.stringify(errorBody(error, "native"));
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
    // What the parser had read: a HEAD request must not be answered with a body.
    const isHead = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString("latin1") === "HEAD ";
    socket.end(clientErrorResponse(status, sent, { isHead }));
  });
}

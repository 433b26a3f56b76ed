import { describe, expect, it } from "vitest";
import { clientErrorOf, clientErrorResponse, requestLineOf } from "./http-client-errors.js";

describe("answers to requests the HTTP parser refuses", () => {
  it("maps parser codes to 431, 408 and 400 with messages that name the setting", () => {
    const limits = { maxHeaderBytes: 16_384 };
    expect(clientErrorOf("HPE_HEADER_OVERFLOW", limits)).toMatchObject({
      status: 431,
      error: {
        code: "headers-too-large",
        message: expect.stringContaining("16384 bytes (--max-header-bytes)"),
      },
    });
    expect(clientErrorOf("ERR_HTTP_REQUEST_TIMEOUT", limits)).toMatchObject({
      status: 408,
      error: { code: "request-timeout" },
    });
    expect(clientErrorOf("HPE_INVALID_METHOD", limits)).toMatchObject({
      status: 400,
      error: { code: "bad-request" },
    });
  });

  it("reads the request line when it is complete, and only then", () => {
    expect(requestLineOf(Buffer.from("HEAD /api/tags HTTP/1.1\r\nHost: x\r\n"))).toEqual({
      method: "HEAD",
      path: "/api/tags",
    });
    expect(requestLineOf(Buffer.from("GARBAGE\r\n\r\n"))).toBeUndefined();
    expect(requestLineOf(undefined)).toBeUndefined();
  });

  it("writes the dialect's body with its length, and headers only for HEAD", () => {
    const { status, error } = clientErrorOf("HPE_HEADER_OVERFLOW", { maxHeaderBytes: 1024 });
    const ollama = clientErrorResponse(status, error, { isHead: false, dialect: "ollama" });
    const body = ollama.slice(ollama.indexOf("\r\n\r\n") + 4);
    expect(JSON.parse(body)).toEqual({ error: error.message });
    expect(ollama).toContain(`Content-Length: ${Buffer.byteLength(body)}\r\n`);
    expect(ollama).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(clientErrorResponse(status, error, { isHead: true, dialect: "native" }).endsWith("\r\n\r\n")).toBe(
      true,
    );
  });
});

/**
 * Sends one fuzz case over a fresh socket and checks the property every response must hold:
 * a 2xx, or a 4xx (a 503 only with Retry-After) with a JSON error body — naming the field when
 * one body field was at fault — within a time limit, and no server path or stack in the body.
 */
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { systemTime } from "../../src/core/index.js";
import type { FuzzCase } from "./requests-fuzz-cases.testing.js";

export interface FuzzKeys {
  admin: string;
  user: string;
}

export interface FuzzReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends the case; rejects when no complete response arrives within `timeoutMs`. */
export function send(
  url: string,
  fuzz: FuzzCase,
  options: { keys: FuzzKeys; timeoutMs: number },
): Promise<FuzzReply> {
  const { keys, timeoutMs } = options;
  const headers: Record<string, string> = { ...fuzz.headers };
  if (fuzz.auth === "admin") headers["authorization"] = `Bearer ${keys.admin}`;
  if (fuzz.auth === "user") headers["authorization"] = `Bearer ${keys.user}`;
  if (fuzz.auth === "wrong") headers["authorization"] = "Bearer rxd_wrong_key";
  if (fuzz.body !== undefined) {
    headers["content-type"] ??= "application/json";
    if (!fuzz.isChunked) headers["content-length"] = String(fuzz.body.length);
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${fuzz.path}`, { method: fuzz.method, headers, agent: false });
    const timer = systemTime.setTimeout(() => {
      request.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms (a hang)`));
    }, timeoutMs);
    request.once("error", (error) => {
      timer.cancel();
      reject(new Error(`the connection failed: ${error.message}`));
    });
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("error", (error) => {
        timer.cancel();
        reject(new Error(`the response broke off: ${error.message}`));
      });
      response.once("end", () => {
        timer.cancel();
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      });
    });
    if (fuzz.body === undefined) request.end();
    else if (fuzz.isChunked) {
      // Two writes: a chunked body the server cannot size up front.
      const half = Math.floor(fuzz.body.length / 2);
      request.write(fuzz.body.subarray(0, half));
      request.end(fuzz.body.subarray(half));
    } else request.end(fuzz.body);
  });
}

/** What must never reach a client: server paths and stack frames (beyond what the request itself sent, echoed). */
export function leaks(body: string, home: string, sent = ""): string | undefined {
  const needles = [home, tmpdir(), "/work/", "node_modules", "file://"];
  for (const needle of needles)
    if (body.includes(needle) && !sent.includes(needle)) return `the body contains ${JSON.stringify(needle)}`;
  if (/\bat [^\s"]+ \(?[^\s"]*:\d+:\d+\)?/.test(body)) return "the body contains a stack frame";
  return undefined;
}

/** The error text of a JSON error body in either dialect, or undefined when it is not one. */
function errorText(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) return JSON.stringify(error);
  return undefined;
}

/** Admin reads whose records hold the server's own configuration, paths included (the audit log). */
function mayShowPaths(fuzz: FuzzCase, status: number): boolean {
  return fuzz.auth === "admin" && status < 300 && /^\/v1\/audit(\/|\?|$)/.test(fuzz.path);
}

/**
 * The property; returns what is wrong, or undefined when the reply holds it. `isBaseValid`: the
 * case's route answers its unbroken base body with a 2xx, so a 400 must be about the broken field.
 */
export function violation(
  fuzz: FuzzCase,
  reply: FuzzReply,
  options: { home: string; isBaseValid: boolean },
): string | undefined {
  const { home } = options;
  const { status } = reply;
  if (status >= 500 && !(status === 503 && reply.headers["retry-after"] !== undefined))
    return `status ${status}`;
  if (status < 200 || status >= 600) return `status ${status}`;
  const sent = `${fuzz.path} ${fuzz.body?.toString("utf8") ?? ""}`;
  const leak = mayShowPaths(fuzz, status) ? undefined : leaks(reply.body, home, sent);
  if (leak !== undefined) return leak;
  if (status < 400 || fuzz.method === "HEAD") return undefined;
  const text = errorText(reply.body);
  if (text === undefined) return `status ${status} without a JSON error body: ${reply.body.slice(0, 200)}`;
  // zod's bare "Invalid input" (a union none of whose branches matched) says neither what nor why.
  if (status === 400 && /: Invalid input\.?"/.test(reply.body))
    return `a 400 that does not say what was expected: ${text.slice(0, 300)}`;
  if (status === 400 && fuzz.field !== undefined && fuzz.auth === "admin" && options.isBaseValid) {
    // The broken field, or the one it sits in (`options` for `options.num_predict`).
    const names = fuzz.field.split(".").filter((segment) => !/^\d+$/.test(segment));
    if (!names.some((name) => text.includes(name)))
      return `a 400 that does not name the field ${fuzz.field}: ${text.slice(0, 300)}`;
  }
  return undefined;
}

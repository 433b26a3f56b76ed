/**
 * One request of the load generator over raw node:http: streamed in the OpenAI (SSE) or Ollama
 * (NDJSON) dialect, with a priority and a behaviour (read to the end, abort mid-stream, cancel
 * with DELETE /v1/requests/{id}, disconnect right after sending). The body is never parsed per
 * token: the client only looks for the first text, an error frame and the stream's end marker,
 * so 200 clients in one process cost the server's two cores little.
 */
import type { Agent } from "node:http";
import { request as httpRequest } from "node:http";
import { systemTime, type MonotonicMs } from "../../src/core/index.js";

export type Dialect = "openai" | "ollama";
export type Priority = "high" | "normal" | "low";
export type Behaviour = "complete" | "abort" | "delete" | "disconnect";

export const dialects: readonly Dialect[] = ["openai", "ollama"];
export const priorities: readonly Priority[] = ["high", "normal", "low"];

export interface RequestPlan {
  /** Sent as X-Request-Id: the audit record and DELETE /v1/requests/{id} find the request by it. */
  id: string;
  model: string;
  dialect: Dialect;
  priority: Priority;
  behaviour: Behaviour;
  prompt: string;
  maxTokens: number;
  /** abort: ms after the first text; delete and disconnect: ms after sending. */
  actionDelayMs: number;
}

/**
 * How a request ended, as the client saw it. `cancelled`: the client's DELETE was answered 200
 * (a running request's stream then ends normally with the tokens so far; a queued one gets 499).
 * The violations (the load's properties say zero):
 * `unmarked-rejection` (429/503 without Retry-After), `server-error` (any other 5xx),
 * `broken-stream` (200 whose stream ended without its end marker or with an error frame the
 * client did not cause), `hang` (no byte for the hang timeout), `reset` (connection reset or
 * refused while the client was not leaving).
 */
export type OutcomeKind =
  | "served"
  | "rejected"
  | "aborted"
  | "disconnected"
  | "cancelled"
  | "client-error"
  | "unmarked-rejection"
  | "server-error"
  | "broken-stream"
  | "hang"
  | "reset";

export const violationKinds: readonly OutcomeKind[] = [
  "unmarked-rejection",
  "server-error",
  "broken-stream",
  "hang",
  "reset",
];

export interface RequestOutcome {
  plan: RequestPlan;
  kind: OutcomeKind;
  status: number | undefined;
  /** Seconds from the Retry-After header of a 429/503. */
  retryAfterSeconds: number | undefined;
  /** Request sent → first chunk carrying text; undefined when none came. */
  timeToFirstTokenMs: number | undefined;
  /** Request sent → end (stream end, rejection, abort or error). */
  totalMs: number;
  /** From the last frame (usage / eval_count) of a served stream. */
  completionTokens: number | undefined;
  /** Short reason for a violation or a client error (status line, error code, first bytes). */
  detail: string | undefined;
}

export interface LoadTarget {
  /** http://127.0.0.1:PORT */
  url: string;
  agent: Agent;
  /** Answers to DELETE /v1/requests/{id} by status (0: no answer, the connection failed). */
  deleteStatuses: Map<number, number>;
}

/** An in-flight request the generator's sweeper can see and end. */
export interface InFlight {
  readonly sentAt: MonotonicMs;
  lastProgressAt: MonotonicMs;
  /** Ends the request as a hang (the client gives up), saying why. */
  giveUp(reason: string): void;
}

const firstTextPattern = /"(?:text|response)":"[^"]/;
const errorFramePattern = /(?:^|\n)(?:data: )?\{"error":/;
const sseEnd = "data: [DONE]\n\n";
const tailBytes = 2048;

function requestBody(plan: RequestPlan): { path: string; body: string } {
  if (plan.dialect === "openai") {
    return {
      path: "/v1/completions",
      body: JSON.stringify({
        model: plan.model,
        prompt: plan.prompt,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: plan.maxTokens,
        temperature: 0.8,
      }),
    };
  }
  return {
    path: "/api/generate",
    body: JSON.stringify({
      model: plan.model,
      prompt: plan.prompt,
      stream: true,
      options: { num_predict: plan.maxTokens, temperature: 0.8 },
    }),
  };
}

function completionTokensOf(tail: string, dialect: Dialect): number | undefined {
  const pattern = dialect === "openai" ? /"completion_tokens":(\d+)/ : /"eval_count":(\d+)/;
  const match = pattern.exec(tail);
  return match === null ? undefined : Number(match[1]);
}

function isComplete(tail: string, dialect: Dialect): boolean {
  if (dialect === "openai") return tail.endsWith(sseEnd);
  const lastLine = tail.trimEnd().split("\n").at(-1) ?? "";
  return lastLine.includes('"done":true');
}

/**
 * Sends one request and settles with its outcome; never rejects. `track` registers it with the
 * hang sweeper until it settles.
 */
export function sendRequest(
  target: LoadTarget,
  plan: RequestPlan,
  track: (inFlight: InFlight) => () => void,
): Promise<RequestOutcome> {
  const { path, body } = requestBody(plan);
  const sentAt = systemTime.monotonicNow();
  return new Promise((resolve) => {
    let status: number | undefined;
    let retryAfterSeconds: number | undefined;
    let firstTextAt: number | undefined;
    let tail = "";
    let sawErrorFrame = false;
    let isLeaving = false; // the client itself aborts or disconnects: errors after that are expected
    /** The DELETE's status once sent: 200 means the server cancelled the request (a running one then ends its stream with a `cancelled` error after the tokens so far). */
    let deleted: Promise<number> | undefined;
    let isSettled = false;
    const timers: { cancel(): void }[] = [];
    const inFlight: InFlight = {
      sentAt,
      lastProgressAt: sentAt,
      giveUp: (reason) => {
        finish("hang", reason);
        request.destroy();
      },
    };
    const untrack = track(inFlight);

    function finish(kind: OutcomeKind, detail?: string): void {
      if (isSettled) return;
      isSettled = true;
      untrack();
      for (const timer of timers) timer.cancel();
      resolve({
        plan,
        kind,
        status,
        retryAfterSeconds,
        timeToFirstTokenMs: firstTextAt === undefined ? undefined : firstTextAt - sentAt,
        totalMs: systemTime.monotonicNow() - sentAt,
        completionTokens: kind === "served" ? completionTokensOf(tail, plan.dialect) : undefined,
        detail,
      });
    }

    function leave(kind: "aborted" | "disconnected"): void {
      isLeaving = true;
      finish(kind);
      request.destroy();
    }

    const request = httpRequest(new URL(path, target.url), {
      method: "POST",
      agent: target.agent,
      headers: {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        "X-Request-Id": plan.id,
        "X-Priority": plan.priority,
      },
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (isLeaving) return;
      finish("reset", `${error.code ?? "error"}: ${error.message}`);
    });
    request.on("response", (response) => {
      status = response.statusCode ?? 0;
      inFlight.lastProgressAt = systemTime.monotonicNow();
      const retryAfter = response.headers["retry-after"];
      if (retryAfter !== undefined) retryAfterSeconds = Number(retryAfter);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        const now = systemTime.monotonicNow();
        inFlight.lastProgressAt = now;
        const window = tail.slice(-32) + chunk;
        if (!sawErrorFrame && errorFramePattern.test(window)) sawErrorFrame = true;
        if (firstTextAt === undefined && status === 200 && firstTextPattern.test(window)) {
          firstTextAt = now;
          if (plan.behaviour === "abort") {
            timers.push(systemTime.setTimeout(() => leave("aborted"), plan.actionDelayMs));
          }
        }
        tail = (tail + chunk).slice(-tailBytes);
      });
      response.on("error", (error: NodeJS.ErrnoException) => {
        if (isLeaving) return;
        finish("reset", `${error.code ?? "error"} while reading: ${error.message}`);
      });
      response.on("aborted", () => {
        if (isLeaving) return;
        finish("reset", "the response was cut before its end");
      });
      response.on("end", () => {
        void (deleted ?? Promise.resolve(undefined)).then((deleteStatus) =>
          finish(...classify(deleteStatus)),
        );
      });
    });

    function classify(deleteStatus: number | undefined): [OutcomeKind, string?] {
      const code = status ?? 0;
      const hasDeleted = deleteStatus !== undefined;
      if (code === 200) {
        if (deleteStatus === 200) return ["cancelled"];
        if (!sawErrorFrame && isComplete(tail, plan.dialect)) return ["served"];
        if (hasDeleted) return ["cancelled"];
        return ["broken-stream", tail.slice(-200)];
      }
      if (code === 429 || code === 503) {
        return retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)
          ? ["rejected"]
          : ["unmarked-rejection", `${code} without Retry-After: ${tail.slice(0, 200)}`];
      }
      if (code === 499 && hasDeleted) return ["cancelled"];
      if (code >= 500) return ["server-error", `${code}: ${tail.slice(0, 200)}`];
      return ["client-error", `${code}: ${tail.slice(0, 200)}`];
    }

    if (plan.behaviour === "disconnect") {
      timers.push(systemTime.setTimeout(() => leave("disconnected"), plan.actionDelayMs));
    } else if (plan.behaviour === "delete") {
      timers.push(
        systemTime.setTimeout(() => {
          deleted = deleteRequest(target, plan.id);
        }, plan.actionDelayMs),
      );
    }
    request.end(body);
  });
}

/**
 * DELETE /v1/requests/{id}: 200 (cancelled) and 404 (already over) are both fine; its status
 * (0: no answer) is counted on the target, where a 5xx or 0 is a violation too.
 */
function deleteRequest(target: LoadTarget, id: string): Promise<number> {
  return new Promise((resolve) => {
    const done = (status: number): void => {
      target.deleteStatuses.set(status, (target.deleteStatuses.get(status) ?? 0) + 1);
      resolve(status);
    };
    const request = httpRequest(new URL(`/v1/requests/${id}`, target.url), {
      method: "DELETE",
      agent: target.agent,
    });
    request.on("error", () => done(0));
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => done(response.statusCode ?? 0));
      response.on("error", () => done(0));
    });
    request.end();
  });
}

/**
 * The internal node-to-node routes of a cluster node (docs/decisions/0035-cluster-on-redis.md),
 * authenticated by the shared --cluster-secret header (constant-time compare), answered outside
 * the public API app (no API key, not in its route table):
 *  - POST /internal/cluster/requests/{id}/run streams the claimed request's frames as NDJSON; a
 *    pull-based body means the running node generates only as fast as the origin reads (TCP flow
 *    control is the backpressure);
 *  - POST /internal/cluster/calls runs another node's embedding or tokenizer call for a model
 *    this node holds (ADR 0047) and answers `{result}` or `{error}` as JSON.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import {
  callsPath,
  clusterSecretHeader,
  errorFrame,
  type ClusterScheduler,
  type HolderAnswer,
  type HolderCall,
  type RunBody,
  type RunFrame,
} from "../cluster/index.js";
import { isAppError, toAppError, type Logger } from "../core/index.js";

const runRoute = /^\/internal\/cluster\/requests\/([^/]+)\/run$/;

export function isClusterPath(pathname: string): boolean {
  return pathname.startsWith("/internal/cluster/");
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Equal secrets, compared in constant time (digests have equal length whatever the input). */
export function secretMatches(expected: string, given: string | null): boolean {
  if (expected === "") return true;
  return given !== null && timingSafeEqual(digest(expected), digest(given));
}

function json(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { message, code } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

export function createClusterFetch(options: {
  cluster: ClusterScheduler;
  /** "" only on a loopback-only node (checked at start). */
  secret: string;
  logger: Logger;
  /**
   * This node's path redactor (the API's): errors leave with its folders hidden, since the
   * origin's redactor knows only the origin's folders.
   */
  redact: (message: string) => string;
}): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const match = runRoute.exec(url.pathname);
    if (!secretMatches(options.secret, request.headers.get(clusterSecretHeader))) {
      options.logger.warn("Cluster route refused: missing or wrong cluster secret", { path: url.pathname });
      return json(401, "unauthorized", "This internal cluster route needs the cluster secret.");
    }
    if (url.pathname === callsPath && request.method === "POST")
      return serveCall(options.cluster, request, options.redact);
    if (match === null || request.method !== "POST")
      return json(404, "not-found", "No such internal cluster route.");
    let body: RunBody;
    try {
      body = (await request.json()) as RunBody;
    } catch {
      return json(400, "bad-request", "The run body must be JSON.");
    }
    const controller = new AbortController();
    request.signal.addEventListener("abort", () => controller.abort(), { once: true });
    const frames = options.cluster.serveRun(decodeURIComponent(match[1]!), body, controller.signal);
    let first: IteratorResult<RunFrame>;
    try {
      first = await frames.next();
    } catch (error) {
      if (isAppError(error) && error.code === "not-found") return json(404, "not-found", error.message);
      throw error;
    }
    const encoder = new TextEncoder();
    let pending: IteratorResult<RunFrame> | undefined = first;
    const stream = new ReadableStream<Uint8Array>({
      async pull(stream) {
        const next = pending ?? (await frames.next());
        pending = undefined;
        if (next.done === true) stream.close();
        else stream.enqueue(encoder.encode(`${JSON.stringify(redactFrame(next.value, options.redact))}\n`));
      },
      async cancel() {
        controller.abort();
        // Run the generator to its end so the local request records how it ended.
        while (!(await frames.next()).done);
      },
    });
    return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
  };
}

function redactFrame(frame: RunFrame, redact: (message: string) => string): RunFrame {
  return "error" in frame ? { error: { ...frame.error, message: redact(frame.error.message) } } : frame;
}

async function serveCall(
  cluster: ClusterScheduler,
  request: Request,
  redact: (message: string) => string,
): Promise<Response> {
  let call: HolderCall;
  try {
    call = (await request.json()) as HolderCall;
  } catch {
    return json(400, "bad-request", "The call body must be JSON.");
  }
  let answer: HolderAnswer;
  try {
    answer = { result: await cluster.serveCall(call, request.signal) };
  } catch (error) {
    answer = errorFrame(toAppError(error), redact);
  }
  return new Response(JSON.stringify(answer), { headers: { "content-type": "application/json" } });
}

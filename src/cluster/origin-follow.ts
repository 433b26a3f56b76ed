/**
 * How the origin node (holding the client connection) follows one cluster generation: it waits
 * for a worker's claim (meanwhile aging the job, re-placing it, re-adding it when Redis lost it,
 * and ending it at its deadline), then pulls the running node's NDJSON frames. A stream that
 * breaks without its end means the running node is lost: back to waiting for the job's next
 * claim, answered with the resume state (the token ids already sent), or a clear error.
 */
import type { Queue } from "bullmq";
import { AppError, type Logger, type StreamEvent, type TimePort } from "../core/index.js";
import type { OriginRequest } from "./origin-request.js";
import {
  clusterSecretHeader,
  frameError,
  jobIdOf,
  readFrames,
  runPath,
  type ClaimMessage,
  type GenerateJobData,
  type RunBody,
  type RunFrame,
} from "./wire.js";

export interface FollowDeps {
  time: TimePort;
  logger: Logger;
  secret: string;
  /** How often a waiting origin tends its job. */
  heartbeatMs: number;
  queueTimeoutMs: number;
  /** How long the origin waits for another node after losing the running one. */
  recoveryWaitMs: number;
  /** 0: no aging. */
  agingStepMs: number;
  queue(model: string): Queue<GenerateJobData>;
  add(origin: OriginRequest): Promise<unknown>;
  /** Placement again (a node told to load when nobody holds the model). */
  place(model: string): Promise<void>;
}

export async function* followOrigin(origin: OriginRequest, deps: FollowDeps): AsyncGenerator<StreamEvent> {
  const { time } = deps;
  const signal = origin.controller.signal;
  let deadline = origin.enqueuedMs + deps.queueTimeoutMs;
  let lost: string | undefined;
  for (;;) {
    const claim = await awaitClaim(origin, deps, { deadline, lost });
    origin.state = "running";
    origin.runningOn = claim.nodeId;
    const body: RunBody = { resume: lost === undefined ? undefined : origin.resumeState(lost) };
    let response: Response | undefined;
    try {
      response = await fetch(`${claim.url}${runPath(origin.request.id)}`, {
        method: "POST",
        headers: { "content-type": "application/json", [clusterSecretHeader]: deps.secret },
        body: JSON.stringify(body),
        signal,
      });
    } catch {
      response = undefined;
    }
    if (response?.ok === true && response.body !== null) {
      let frames: AsyncGenerator<RunFrame> | undefined;
      try {
        frames = readFrames(response.body);
        for await (const frame of frames) {
          if ("error" in frame) throw frameError(frame);
          origin.sent(frame.event);
          yield frame.event;
          if (frame.event.type === "end") return;
        }
      } catch (error) {
        if (error instanceof AppError) throw error;
      }
    } else if (response !== undefined) {
      // 401: the nodes disagree on --cluster-secret; 404: the claim was already given up.
      deps.logger.warn("Cluster node refused the run of a request it claimed", {
        request: origin.request.id,
        node: claim.nodeId,
        status: response.status,
      });
      await response.body?.cancel().catch(() => undefined);
    }
    if (signal.aborted) throw cancelledError(origin.request.id);
    // The running node is gone (or refused): wait for the job's next claim.
    lost = claim.nodeId;
    try {
      origin.resumeState(lost);
    } catch (error) {
      await removeJob(origin, deps);
      throw error;
    }
    origin.state = "queued";
    origin.runningOn = undefined;
    deadline = time.monotonicNow() + deps.recoveryWaitMs;
    deps.logger.warn("Cluster node lost mid-request; waiting for another node", {
      request: origin.request.id,
      node: claim.nodeId,
    });
  }
}

/** Waits for a claim; meanwhile ages the job, re-places it, and re-adds it if Redis lost it. */
async function awaitClaim(
  origin: OriginRequest,
  deps: FollowDeps,
  until: { deadline: number; lost: string | undefined },
): Promise<ClaimMessage> {
  const { deadline, lost } = until;
  const { time } = deps;
  const signal = origin.controller.signal;
  for (;;) {
    const claim = origin.takeClaim();
    if (claim !== undefined) return claim;
    if (signal.aborted) {
      await removeJob(origin, deps);
      throw cancelledError(origin.request.id);
    }
    if (time.monotonicNow() >= deadline) {
      await removeJob(origin, deps);
      if (lost !== undefined)
        throw new AppError(
          "runner-crashed",
          `Cluster node "${lost}" stopped while running request "${origin.request.id}" and no other node took it over; retry.`,
        );
      throw new AppError(
        "queue-timeout",
        `Request "${origin.request.id}" waited longer than --queue-timeout (${deps.queueTimeoutMs} ms) in the cluster queue for "${origin.request.model}". Retry later.`,
        { retryAfterSeconds: 5 },
      );
    }
    await origin.waitForClaim(time, Math.min(deps.heartbeatMs, Math.max(0, deadline - time.monotonicNow())));
    if (origin.hasClaim || signal.aborted) continue;
    await tend(origin, deps).catch(() => undefined);
  }
}

/** Periodic care of a waiting job: aging, placement, and re-adding a job that disappeared. */
async function tend(origin: OriginRequest, deps: FollowDeps): Promise<void> {
  const { time, agingStepMs } = deps;
  const queue = deps.queue(origin.request.model);
  const job = await queue.getJob(jobIdOf(origin.request.id));
  if (job === undefined) {
    // Failed (its claim was never answered), or lost with a Redis restart: queue it again.
    await deps.add(origin);
    return;
  }
  if (agingStepMs > 0 && origin.bullPriority > 1 && time.monotonicNow() - origin.lastAgedMs >= agingStepMs) {
    origin.lastAgedMs = time.monotonicNow();
    origin.bullPriority -= 1;
    if ((await job.getState()) === "prioritized") await job.changePriority({ priority: origin.bullPriority });
  }
  await deps.place(origin.request.model);
}

export async function removeJob(origin: OriginRequest, deps: Pick<FollowDeps, "queue">): Promise<void> {
  await deps
    .queue(origin.request.model)
    .remove(jobIdOf(origin.request.id))
    .catch(() => undefined);
}

export function cancelledError(requestId: string): AppError {
  return new AppError("cancelled", `Request "${requestId}" was cancelled.`);
}

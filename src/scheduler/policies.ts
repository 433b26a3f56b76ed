/**
 * Scheduling policy, kept apart from the mechanism (STYLE.md §2): the queue ordering, the
 * preemption victim and the eviction choice are named functions the ModelQueue is given, as are
 * the small rules at the end (preemption only under priorities, pinned = kept forever, the
 * service-time average, how a failure is counted).
 *
 * Priority with aging: a waiting request's rank is its class (high 0, normal 1, low 2) minus
 * one for every `agingStepMs` it has waited, floored at 0. Equal ranks go resumed-first, then
 * oldest first. So a low request ranks with high after 2 × agingStepMs and then starts before
 * any high request that arrived after it: under a steady stream of high requests, a low one
 * waits at most about 2 × agingStepMs plus one generation.
 */
import type { Priority } from "../core/index.js";

export const priorityRank: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export interface WaitingRequest {
  requestId: string;
  priority: Priority;
  /** When the request first arrived (kept across preemptions). */
  enqueuedMs: number;
  /** Arrival order, to break ties. */
  sequenceNumber: number;
  /** Put back after a preemption: first within its rank. */
  isResumed: boolean;
}

export interface RunningRequest {
  requestId: string;
  priority: Priority;
  startedMs: number;
  isPreemptible: boolean;
  isBeingPreempted: boolean;
  preemptions: number;
  /** Past its prompt: it has produced a token. */
  isDecoding: boolean;
}

/** Negative when `a` should start before `b`. */
export type QueueOrdering = (a: WaitingRequest, b: WaitingRequest, nowMs: number) => number;

export function effectiveRank(request: WaitingRequest, nowMs: number, agingStepMs: number): number {
  const aged = agingStepMs > 0 ? Math.floor((nowMs - request.enqueuedMs) / agingStepMs) : 0;
  return Math.max(0, priorityRank[request.priority] - aged);
}

export function orderByPriorityWithAging(agingStepMs: number): QueueOrdering {
  return (a, b, nowMs) =>
    effectiveRank(a, nowMs, agingStepMs) - effectiveRank(b, nowMs, agingStepMs) ||
    Number(b.isResumed) - Number(a.isResumed) ||
    a.sequenceNumber - b.sequenceNumber;
}

/** Priorities off: first come, first served (the benchmark's baseline). */
export const orderFirstComeFirstServed: QueueOrdering = (a, b) =>
  Number(b.isResumed) - Number(a.isResumed) || a.sequenceNumber - b.sequenceNumber;

export type QueuePolicyName = "priority" | "fifo";

export function selectQueueOrdering(policy: QueuePolicyName, agingStepMs: number): QueueOrdering {
  switch (policy) {
    case "priority":
      return orderByPriorityWithAging(agingStepMs);
    case "fifo":
      return orderFirstComeFirstServed;
  }
}

/** Requests preempted at most this often, so a low request cannot be bounced forever. */
export const maxPreemptionsPerRequest = 1;

/**
 * The running request to preempt for a waiting high one: a preemptible low request, never one
 * already preempted its share of times. One that is decoding goes first: the runner stops it
 * within a token, while a request in its prompt stops only at the next prompt chunk (hundreds
 * of milliseconds on a CPU), and its half-done prompt would be thrown away. Then the most
 * recently started (least work to redo).
 */
export function choosePreemptionVictim(running: Iterable<RunningRequest>): RunningRequest | undefined {
  let victim: RunningRequest | undefined;
  for (const candidate of running) {
    if (candidate.priority !== "low" || !candidate.isPreemptible || candidate.isBeingPreempted) continue;
    if (candidate.preemptions >= maxPreemptionsPerRequest) continue;
    if (victim === undefined || isBetterVictim(candidate, victim)) victim = candidate;
  }
  return victim;
}

function isBetterVictim(candidate: RunningRequest, current: RunningRequest): boolean {
  if (candidate.isDecoding !== current.isDecoding) return candidate.isDecoding;
  return candidate.startedMs > current.startedMs;
}

/** Preemption in effect: asked for, and the priority policy (FIFO has no class to preempt for). */
export function isPreemptionInEffect(policy: QueuePolicyName, isRequested: boolean): boolean {
  return isRequested && policy === "priority";
}

/** Keep-alive meaning "stay loaded forever" (Ollama's -1). */
export const keepAliveForever = -1;

/**
 * How long an idle model stays loaded, given what a request asked for (undefined: keep what it
 * had). Pinned models stay forever, whatever a request asks.
 */
export function resolveKeepAliveMs(
  model: { isPinned: boolean; keepAliveMs: number },
  requestedMs: number | undefined,
): number {
  if (model.isPinned) return keepAliveForever;
  return requestedMs ?? model.keepAliveMs;
}

/** Smoothed time a request holds a sequence (exponential average, weight 0.2 on the newest run). */
export function smoothServiceMs(averageMs: number | undefined, sampleMs: number): number {
  return averageMs === undefined ? sampleMs : averageMs * 0.8 + sampleMs * 0.2;
}

/** How a failed request is counted: refused at admission, cancelled (by anyone), or an error. */
export function classifyFailure(errorCode: string, isAborted: boolean): "rejected" | "cancelled" | "error" {
  if (errorCode === "queue-full") return "rejected";
  if (errorCode === "cancelled" || isAborted) return "cancelled";
  return "error";
}

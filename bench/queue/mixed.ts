/**
 * The mixed load: two servers in this process, one per policy (priority with preemption; FIFO
 * without), each with both models loaded, started and warmed up once. Then windows alternate
 * between them in the order of queueSettings.mixed.order. In a window, six closed-loop clients
 * per model stream the next request of that model's seeded list as soon as their previous one
 * ends; when the window ends they stop sending and what was sent runs to its end (the drain)
 * before the next window starts, so one policy's requests never share the CPU with the other's.
 * The idle server's runners wait on their IPC channel and use no CPU. Last, one paired window:
 * both servers loaded at once with the same seeded lists, for the throughput ratio.
 */
import type { RunningServer } from "../../src/app/index.js";
import { waitForNoChildProcesses } from "../lib/machine.js";
import type { MixedRun, QueueSample } from "./report.js";
import { makeSchedule, type QueueRequestPlan } from "./schedule.js";
import {
  machineCpuShares,
  QueueMarks,
  readCpu,
  runnerPids,
  runningIntervals,
  startQueueServer,
  warmUp,
  type CpuReading,
  type RequestMarks,
} from "./server.js";
import { completionBody } from "../lib/bench-server.js";
import { queueSettings, type QueuePolicy } from "./settings.js";
import { CompletionStreamClient, type StreamedCompletion } from "../lib/sse-client.js";
import { systemTime } from "../../src/core/index.js";

const childExitTimeoutMs = 10_000;

export interface MixedPlan {
  modelsDir: string;
  home: string;
  windowMs: number;
  pairedWindowMs: number;
  log: (line: string) => void;
}

interface PolicyServer {
  policy: QueuePolicy;
  server: RunningServer;
  marks: QueueMarks;
}

export async function runMixedLoad(plan: MixedPlan): Promise<MixedRun[]> {
  const { mixed } = queueSettings;
  const setupStart = systemTime.monotonicNow();
  const servers: PolicyServer[] = [];
  try {
    for (const policy of ["priority", "fifo"] as const) {
      const server = await startQueueServer({
        home: plan.home,
        modelsDir: plan.modelsDir,
        threads: queueSettings.threads,
        parallel: mixed.parallel,
        contextSize: queueSettings.contextSize,
        maxLoadedModels: queueSettings.mixedModels.length,
        policy,
        // Priorities off means preemption off too: under FIFO a preempted low would only make room for the oldest waiter.
        isPreemptionEnabled: policy === "priority",
      });
      servers.push({ policy, server, marks: new QueueMarks(server) });
    }
    await Promise.all(
      servers.flatMap(({ policy, server }) =>
        queueSettings.mixedModels.map((model) => warmUp(server, model, `warm-${policy}-${model}`)),
      ),
    );
    const setupMs = systemTime.monotonicNow() - setupStart;
    plan.log(
      `  mixed: 2 servers × ${queueSettings.mixedModels.length} runners loaded and warm in ${(setupMs / 1000).toFixed(1)} s`,
    );
    const runs: MixedRun[] = [];
    const logRun = (run: MixedRun): void => {
      const done = run.samples.filter((sample) => sample.error === undefined).length;
      plan.log(
        `  mixed ${run.isPaired ? "paired " : ""}${run.policy.padEnd(8)} seed ${run.seed}: ${done}/${run.samples.length} requests, ${(run.tokensInWindow / (run.windowMs / 1000)).toFixed(1)} tok/s, ` +
          `runners ${(run.cpuInWindow.runnerMs / run.windowMs).toFixed(2)} cores, sequences busy ${(run.sequenceOccupancy * 100).toFixed(1)} %, ` +
          `${run.preemptions} preemptions, drain ${(run.drainMs / 1000).toFixed(1)} s, machine busy ${((run.machineCpu?.busy ?? Number.NaN) * 100).toFixed(0)} %`,
      );
    };
    for (const [order, step] of mixed.order.entries()) {
      const target = servers.find((candidate) => candidate.policy === step.policy)!;
      const run = await runWindow({
        ...target,
        seed: mixed.seeds[step.seedIndex]!,
        order,
        windowMs: plan.windowMs,
        setupMs,
        isPaired: false,
      });
      runs.push(run);
      logRun(run);
    }
    const paired = await Promise.all(
      servers.map((target) =>
        runWindow({
          ...target,
          seed: mixed.pairedSeed,
          order: mixed.order.length,
          windowMs: plan.pairedWindowMs,
          setupMs,
          isPaired: true,
        }),
      ),
    );
    for (const run of paired) {
      runs.push(run);
      logRun(run);
    }
    return runs;
  } finally {
    for (const { marks } of servers) marks.stop();
    await Promise.all(servers.map(({ server }) => server.close()));
    await waitForNoChildProcesses(childExitTimeoutMs);
  }
}

interface WindowPlan extends PolicyServer {
  /** Both policies' windows at once (the throughput pair), or this policy's alone. */
  isPaired: boolean;
  seed: number;
  order: number;
  windowMs: number;
  setupMs: number;
}

async function runWindow(plan: WindowPlan): Promise<MixedRun> {
  const { mixed } = queueSettings;
  const { server, marks } = plan;
  const schedule = makeSchedule({
    seed: plan.seed,
    models: queueSettings.mixedModels,
    length: mixed.scheduleLength,
    maxTokens: mixed.maxTokens,
  });
  const pids = runnerPids(server);
  const clients: CompletionStreamClient[] = [];
  const cpuBefore = await readCpu(pids);
  const t0 = systemTime.monotonicNow();
  const cutoff = t0 + plan.windowMs;
  let cpuAtCutoff: CpuReading | undefined;
  // Each client's request in flight, to hang up on those still queued when a paired window ends.
  const inFlight = new Map<CompletionStreamClient, string>();
  const cutoffTimer = systemTime.setTimeout(() => {
    void readCpu(pids).then((reading) => (cpuAtCutoff = reading));
    if (!plan.isPaired) return;
    // The pair measures throughput only: a request not started by the end adds no token to the
    // window, and cancelling it spares a drain at half speed.
    for (const [client, requestId] of inFlight) {
      if (marks.requests.get(requestId)?.startedAt === undefined) client.close();
    }
  }, plan.windowMs);
  const hangUp = systemTime.setTimeout(
    () => clients.forEach((client) => client.close()),
    plan.windowMs + mixed.drainLimitMs,
  );
  const sent: SentRequest[] = [];
  try {
    const loops: Promise<void>[] = [];
    for (const model of queueSettings.mixedModels) {
      const plans = schedule.get(model)!;
      let cursor = 0;
      for (let clientIndex = 0; clientIndex < mixed.clientsPerModel; clientIndex++) {
        const client = new CompletionStreamClient(server.url);
        clients.push(client);
        loops.push(
          (async () => {
            while (systemTime.monotonicNow() < cutoff && cursor < plans.length) {
              const request = plans[cursor++]!;
              const requestId = `w${plan.order}-${model}-${request.index}`;
              inFlight.set(client, requestId);
              sent.push(await send(client, { plan: request, requestId, client: clientIndex }));
              inFlight.delete(client);
            }
          })(),
        );
      }
    }
    await Promise.all(loops);
  } finally {
    hangUp.cancel();
    cutoffTimer.cancel();
    for (const client of clients) client.close();
  }
  const endedAt = systemTime.monotonicNow();
  cpuAtCutoff ??= await readCpu(pids);
  const ids = new Set(sent.map((request) => request.requestId));
  const mine = [...marks.requests.entries()].filter(([id]) => ids.has(id));
  const samples = sent.map((request) => ({
    ...toSample(request, marks, t0),
    preemptedForIt: victimOf(request.requestId, marks, mine),
  }));
  const busyMs = mine
    .flatMap(([, request]) => runningIntervals(request))
    .reduce((sum, [start, stop]) => sum + Math.max(0, Math.min(stop, cutoff) - Math.max(start, t0)), 0);
  return {
    policy: plan.policy,
    isPreemptionEnabled: plan.policy === "priority",
    isPaired: plan.isPaired,
    seed: plan.seed,
    order: plan.order,
    windowMs: plan.windowMs,
    drainMs: endedAt - cutoff,
    setupMs: plan.setupMs,
    runnerPids: pids,
    tokensInWindow: samples.reduce((sum, sample) => sum + tokensWithin(sample, plan.windowMs), 0),
    completionTokens: samples.reduce(
      (sum, sample) => sum + (Number.isFinite(sample.completionTokens) ? sample.completionTokens : 0),
      0,
    ),
    recomputedTokens: samples.reduce((sum, sample) => sum + sample.recomputedTokens, 0),
    preemptions: mine.reduce((sum, [, request]) => sum + request.preemptedAt.length, 0),
    sequenceOccupancy: busyMs / (queueSettings.mixedModels.length * mixed.parallel * plan.windowMs),
    cpuInWindow: {
      runnerMs: cpuAtCutoff.runnerMs - cpuBefore.runnerMs,
      mainMs: cpuAtCutoff.mainMs - cpuBefore.mainMs,
    },
    machineCpu: machineCpuShares(cpuBefore.machine, cpuAtCutoff.machine),
    samples,
  };
}

/**
 * The request preempted to start a high one: the events do not name it (byRequestId is not
 * filled in), so it is the first preemption on the same model between the high request's
 * arrival and its start.
 */
function victimOf(
  requestId: string,
  marks: QueueMarks,
  window: readonly [string, RequestMarks][],
): QueueSample["preemptedForIt"] {
  const high = marks.requests.get(requestId);
  if (high?.priority !== "high" || high.startedAt === undefined) return undefined;
  let found: QueueSample["preemptedForIt"];
  let foundAt = Number.POSITIVE_INFINITY;
  for (const [id, request] of window) {
    if (request.model !== high.model) continue;
    request.preemptedAt.forEach((at, index) => {
      if (at < high.queuedAt || at > high.startedAt! + 1 || at >= foundAt) return;
      foundAt = at;
      // A request preempted before its first token had its prompt evaluated and nothing kept.
      const generatedTokens = request.preemptedTokens[index] ?? Number.NaN;
      found = { requestId: id, phase: generatedTokens > 0 ? "decode" : "prompt", generatedTokens };
    });
  }
  return found;
}

interface SentRequest {
  plan: QueueRequestPlan;
  requestId: string;
  client: number;
  sentAt: number;
  streamed: StreamedCompletion | undefined;
  endedAt: number;
  error: string | undefined;
}

async function send(
  client: CompletionStreamClient,
  request: { plan: QueueRequestPlan; requestId: string; client: number },
): Promise<SentRequest> {
  const { plan, requestId } = request;
  const sentAt = systemTime.monotonicNow();
  try {
    const streamed = await client.stream(completionBody(plan), {
      "X-Request-Id": requestId,
      "X-Priority": plan.priority,
    });
    return { ...request, sentAt: streamed.sentAt, streamed, endedAt: streamed.endedAt, error: undefined };
  } catch (error) {
    return {
      ...request,
      sentAt,
      streamed: undefined,
      endedAt: systemTime.monotonicNow(),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

function toSample(request: SentRequest, marks: QueueMarks, t0: number): QueueSample {
  const server = marks.requests.get(request.requestId);
  const since = (at: number | undefined): number => (at === undefined ? Number.NaN : at - t0);
  const streamed = request.streamed;
  const promptTokens = streamed?.usage?.prompt_tokens ?? Number.NaN;
  const paused =
    server?.resumedAt.reduce(
      (sum, resumedAt, index) => sum + resumedAt - (server.preemptedAt[index] ?? resumedAt),
      0,
    ) ?? 0;
  return {
    requestId: request.requestId,
    model: request.plan.model,
    priority: request.plan.priority,
    index: request.plan.index,
    client: request.client,
    sentMs: since(request.sentAt),
    queuedMs: since(server?.queuedAt),
    startedMs: since(server?.startedAt),
    firstTokenEventMs: since(server?.firstTokenAt),
    firstContentMs: since(streamed?.firstContentAt),
    lastContentMs: since(streamed?.lastContentAt),
    endedMs: since(request.endedAt),
    queueWaitMs: server?.startedAt === undefined ? Number.NaN : server.startedAt - server.queuedAt,
    timeToFirstTokenMs:
      streamed?.firstContentAt === undefined ? Number.NaN : streamed.firstContentAt - request.sentAt,
    promptTokens,
    completionTokens: streamed?.usage?.completion_tokens ?? Number.NaN,
    contentChunks: streamed?.contentChunks ?? 0,
    preemptions: server?.preemptedAt.length ?? 0,
    pausedMs: paused,
    // Counted by the runner when the request ended; before that, the worst case (no state kept).
    recomputedTokens:
      server?.reevaluatedTokens ??
      (server?.preemptedTokens ?? []).reduce(
        (sum, tokens) => sum + tokens + (Number.isFinite(promptTokens) ? promptTokens : 0),
        0,
      ),
    arrival: server?.arrival,
    outcome: server?.outcome,
    ...(request.error === undefined ? {} : { error: request.error }),
  };
}

/**
 * Completion tokens of a request that reached the client by `windowEnd` (ms since the window
 * start), its tokens spread evenly between its first and last content chunk.
 */
export function tokensWithin(sample: QueueSample, windowEnd: number): number {
  const tokens = sample.completionTokens;
  const first = sample.firstContentMs;
  const last = sample.lastContentMs;
  if (!Number.isFinite(tokens) || !Number.isFinite(first) || !Number.isFinite(last)) return 0;
  if (last <= windowEnd) return tokens;
  if (first > windowEnd) return 0;
  return (tokens * (windowEnd - first)) / (last - first);
}

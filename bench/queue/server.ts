/**
 * The queue suite's server: startServer in this process with real runner processes, a recorder
 * of the scheduler's own events per request id (same process, same clock as the client), and
 * CPU counters for the runners, this process and the whole machine.
 */
import { readFile } from "node:fs/promises";
import type { RunningServer } from "../../src/app/index.js";
import { systemTime, type Priority } from "../../src/core/index.js";
import { completionBody, startBenchServer } from "../lib/bench-server.js";
import { otherProcessCpuMs, processCpuMs } from "../lib/machine.js";
import { CompletionStreamClient } from "../lib/sse-client.js";

export interface QueueServerOptions {
  home: string;
  modelsDir: string;
  threads: number;
  parallel: number;
  contextSize: number;
  maxLoadedModels: number;
  policy: "priority" | "fifo";
  isPreemptionEnabled: boolean;
}

export async function startQueueServer(options: QueueServerOptions): Promise<RunningServer> {
  return startBenchServer({
    home: options.home,
    modelsDirectory: options.modelsDir,
    flags: {
      threads: String(options.threads),
      parallel: String(options.parallel),
      "context-size": String(options.contextSize),
      "max-loaded-models": String(options.maxLoadedModels),
      "queue-policy": options.policy,
      "no-preemption": String(!options.isPreemptionEnabled),
      // Nothing unloads between the warm-up and the end of a run.
      "keep-alive": "-1",
    },
  });
}

/** Loads the model (its first request does) and pays its first generation's page faults. */
export async function warmUp(server: RunningServer, model: string, requestId: string): Promise<void> {
  const client = new CompletionStreamClient(server.url);
  try {
    await client.stream(
      completionBody({
        model,
        prompt: "warm up: the old farmer walked slowly down the dusty road",
        maxTokens: 8,
      }),
      { "X-Request-Id": requestId },
    );
  } finally {
    client.close();
  }
}

/** What another request held when a request arrived at the queue. */
export interface ArrivalContext {
  /** Sequences of the model in use by requests of each priority; `preemptibleLow` excludes lows preempted before. */
  running: Record<Priority, number>;
  preemptibleLow: number;
  waiting: number;
}

export interface RequestMarks {
  model: string;
  priority: Priority;
  queuedAt: number;
  arrival: ArrivalContext;
  startedAt?: number;
  firstTokenAt?: number;
  preemptedAt: number[];
  /** Completion tokens at each preemption (with the prompt: what a resume without its saved state evaluates again). */
  preemptedTokens: number[];
  resumedAt: number[];
  endedAt?: number;
  outcome?: string;
  completionTokens?: number;
  /** From request-end: tokens its resumes evaluated again (0 when saved KV states were restored). */
  reevaluatedTokens?: number;
}

interface RunningEntry {
  priority: Priority;
  preemptions: number;
}

/**
 * Every scheduler event of one server, by request id, in monotonic time (systemTime). Listeners run
 * synchronously in the emitting call, so the marks are as exact as the event loop allows.
 */
export class QueueMarks {
  readonly requests = new Map<string, RequestMarks>();
  readonly #running = new Map<string, Map<string, RunningEntry>>();
  readonly #unsubscribe: (() => void)[];

  constructor(server: RunningServer) {
    const { events } = server;
    this.#unsubscribe = [
      events.on("request-queued", ({ requestId, model, priority }) => {
        this.requests.set(requestId, {
          model,
          priority,
          queuedAt: systemTime.monotonicNow(),
          arrival: this.#arrivalContext(model),
          preemptedAt: [],
          preemptedTokens: [],
          resumedAt: [],
        });
      }),
      events.on("request-started", ({ requestId, model }) => {
        const marks = this.requests.get(requestId);
        if (marks === undefined) return;
        marks.startedAt = systemTime.monotonicNow();
        this.#runningOf(model).set(requestId, { priority: marks.priority, preemptions: 0 });
      }),
      events.on("request-preempted", ({ requestId, model, completionTokens }) => {
        const marks = this.requests.get(requestId);
        marks?.preemptedAt.push(systemTime.monotonicNow());
        marks?.preemptedTokens.push(completionTokens);
        this.#runningOf(model).delete(requestId);
      }),
      events.on("request-resumed", ({ requestId, model }) => {
        const marks = this.requests.get(requestId);
        if (marks === undefined) return;
        marks.resumedAt.push(systemTime.monotonicNow());
        this.#runningOf(model).set(requestId, {
          priority: marks.priority,
          preemptions: marks.preemptedAt.length,
        });
      }),
      events.on("first-token", ({ requestId }) => {
        const marks = this.requests.get(requestId);
        if (marks !== undefined) marks.firstTokenAt ??= systemTime.monotonicNow();
      }),
      events.on("request-end", ({ requestId, model, outcome, completionTokens, reevaluatedTokens }) => {
        const marks = this.requests.get(requestId);
        this.#runningOf(model).delete(requestId);
        if (marks === undefined) return;
        marks.endedAt = systemTime.monotonicNow();
        marks.outcome = outcome;
        marks.completionTokens = completionTokens;
        marks.reevaluatedTokens = reevaluatedTokens;
      }),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  #runningOf(model: string): Map<string, RunningEntry> {
    let running = this.#running.get(model);
    if (running === undefined) {
      running = new Map();
      this.#running.set(model, running);
    }
    return running;
  }

  #arrivalContext(model: string): ArrivalContext {
    const running: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
    let preemptibleLow = 0;
    for (const entry of this.#runningOf(model).values()) {
      running[entry.priority] += 1;
      if (entry.priority === "low" && entry.preemptions === 0) preemptibleLow += 1;
    }
    let waiting = 0;
    for (const marks of this.requests.values()) {
      if (
        marks.model === model &&
        marks.endedAt === undefined &&
        (marks.startedAt === undefined || marks.preemptedAt.length > marks.resumedAt.length)
      )
        waiting += 1;
    }
    return { running, preemptibleLow, waiting };
  }
}

/** When a request held a sequence: from each start or resume to the next preemption or its end. */
export function runningIntervals(marks: RequestMarks): [number, number][] {
  if (marks.startedAt === undefined) return [];
  const starts = [marks.startedAt, ...marks.resumedAt];
  const stops = [...marks.preemptedAt, marks.endedAt ?? Number.POSITIVE_INFINITY];
  return starts.map((start, index) => [start, stops[index] ?? Number.POSITIVE_INFINITY]);
}

/** Whole-machine CPU time from /proc/stat, in clock ticks: busy (user..softirq), idle (+iowait), steal. */
export interface MachineCpu {
  busy: number;
  idle: number;
  steal: number;
}

export async function machineCpu(): Promise<MachineCpu | undefined> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0]!;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { busy: user! + nice! + system! + irq! + softirq!, idle: idle! + iowait!, steal: steal ?? 0 };
  } catch {
    return undefined;
  }
}

/** Shares of the machine's CPU time between two readings: busy, idle and stolen by the hypervisor. */
/** Shares of the whole machine's CPU time over an interval. */
export interface MachineCpuShares {
  busy: number;
  idle: number;
  steal: number;
}

export function machineCpuShares(
  before: MachineCpu | undefined,
  after: MachineCpu | undefined,
): MachineCpuShares | undefined {
  if (before === undefined || after === undefined) return undefined;
  const busy = after.busy - before.busy;
  const idle = after.idle - before.idle;
  const steal = after.steal - before.steal;
  const total = busy + idle + steal;
  return total > 0 ? { busy: busy / total, idle: idle / total, steal: steal / total } : undefined;
}

export interface CpuReading {
  runnerMs: number;
  mainMs: number;
  machine: MachineCpu | undefined;
}

/** CPU time so far of the given runner processes (summed) and of this process. */
export async function readCpu(runnerPids: readonly number[]): Promise<CpuReading> {
  const runners = await Promise.all(runnerPids.map((pid) => otherProcessCpuMs(pid).catch(() => Number.NaN)));
  return {
    runnerMs: runners.reduce((sum, ms) => sum + ms, 0),
    mainMs: processCpuMs(),
    machine: await machineCpu(),
  };
}

export function runnerPids(server: RunningServer): number[] {
  return server.queue
    .snapshot()
    .loaded.flatMap((model) => (model.info.pid === undefined ? [] : [model.info.pid]));
}

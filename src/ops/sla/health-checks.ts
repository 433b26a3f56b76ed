/**
 * One round of health checks. Every input is a port the app wires (ops may not import the
 * scheduler or the API): a loopback GET of the server's own /health, the loaded models and
 * their runner processes, an optional synthetic inference, free disk, event-loop lag, and the
 * audit and backup states. Each check races a time-port timer: one that hangs fails at its
 * deadline instead of holding the round.
 */
import type { EventBus, TimePort } from "../../core/index.js";
import type { CheckKind, CheckResult, CheckStatus } from "./service-state.js";

export interface SlaProbes {
  /** GET the server's own /health over loopback; resolves on 2xx, throws otherwise. */
  front?: (signal: AbortSignal) => Promise<void>;
  /** Models with a runner now. */
  loadedModels?: () => { model: string; pid: number | undefined }[];
  isProcessAlive?: (pid: number) => boolean;
  /** A few tokens of synthetic inference at high priority on `model`; throws on failure. */
  probe?: { model: string; generate: (signal: AbortSignal) => Promise<void> };
  /** Free and total bytes of the data folder's file system. */
  disk?: () => Promise<{ freeBytes: number; totalBytes: number }>;
  /** Event-loop delay (p99 over the last interval), ms; undefined when not measured yet. */
  eventLoopLagMs?: () => number | undefined;
  /** The audit writer's last reported state; undefined when there is no audit log. */
  audit?: () => { state: "writable" | "degraded" | "failed"; reason?: string | undefined } | undefined;
  /** The backup schedule's last reported state; undefined when there are no backups. */
  backup?: () => { state: "ok" | "missed" | "failed"; reason?: string | undefined } | undefined;
}

export const diskFailBytes = 256 * 1024 ** 2;
export const diskWarnBytes = 1024 ** 3;
export const eventLoopLagWarnMs = 1_000;

/** Runner crashes and failed loads since the last round, from the core events. */
export class RunnerWatch {
  readonly #problems = new Map<string, string[]>();
  readonly #unsubscribe: (() => void)[];

  constructor(events: EventBus) {
    this.#unsubscribe = [
      events.on("runner-crashed", (event) => this.#note(event.model, `runner crashed: ${event.detail}`)),
      events.on("model-load-end", (event) => {
        if (!event.ok) this.#note(event.model, `load failed: ${event.error ?? "no reason given"}`);
      }),
    ];
  }

  #note(model: string, problem: string): void {
    const list = this.#problems.get(model) ?? [];
    list.push(problem);
    this.#problems.set(model, list);
  }

  /** What happened per model since the last call, and forgets it. */
  take(): Map<string, string[]> {
    const taken = new Map(this.#problems);
    this.#problems.clear();
    return taken;
  }

  close(): void {
    for (const stop of this.#unsubscribe) stop();
  }
}

class DeadlineError extends Error {}

/** Runs `work` with an abort signal that fires at the deadline; the race ends at the deadline either way. */
async function withDeadline<T>(
  time: TimePort,
  deadlineMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = time.setTimeout(() => {
      controller.abort(new DeadlineError(`no answer within ${deadlineMs} ms`));
      reject(new DeadlineError(`no answer within ${deadlineMs} ms`));
    }, deadlineMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    timer?.cancel();
    if (!controller.signal.aborted) controller.abort();
  }
}

export interface RoundOptions {
  probes: SlaProbes;
  runners: RunnerWatch | undefined;
  time: TimePort;
  deadlineMs: number;
}

/** Runs every configured check at once; resolves by the deadline at the latest. */
export async function runHealthChecks(options: RoundOptions): Promise<CheckResult[]> {
  const { probes, time, deadlineMs } = options;
  const timed = async (
    check: { name: string; kind: CheckKind; onDeadline?: CheckStatus },
    work: (signal: AbortSignal) => Promise<{ status: CheckStatus; reason: string }>,
  ): Promise<CheckResult> => {
    const { name, kind, onDeadline = "fail" } = check;
    const started = time.monotonicNow();
    let outcome: { status: CheckStatus; reason: string };
    try {
      outcome = await withDeadline(time, deadlineMs, work);
    } catch (error) {
      const isDeadline = error instanceof DeadlineError;
      outcome = {
        status: isDeadline ? onDeadline : "fail",
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    return { name, kind, ...outcome, ms: time.monotonicNow() - started };
  };
  const pass = { status: "pass" as const, reason: "" };
  const checks: Promise<CheckResult>[] = [];
  if (probes.front !== undefined) {
    const front = probes.front;
    checks.push(timed({ name: "front", kind: "front" }, async (signal) => (await front(signal), pass)));
  }
  checks.push(...runnerChecks(options));
  if (probes.probe !== undefined) {
    const probe = probes.probe;
    // Past its deadline it is degraded, not down: under load the probe waits like any request.
    checks.push(
      timed(
        { name: `probe:${probe.model}`, kind: "probe", onDeadline: "warn" },
        async (signal) => (await probe.generate(signal), pass),
      ),
    );
  }
  if (probes.disk !== undefined) {
    const disk = probes.disk;
    checks.push(timed({ name: "disk", kind: "disk" }, async () => diskStatus(await disk())));
  }
  const lag = probes.eventLoopLagMs?.();
  if (lag !== undefined)
    checks.push(
      Promise.resolve({
        name: "event-loop",
        kind: "event-loop",
        status: lag > eventLoopLagWarnMs ? "warn" : "pass",
        reason: lag > eventLoopLagWarnMs ? `event-loop delay p99 ${Math.round(lag)} ms` : "",
        ms: 0,
      }),
    );
  const audit = probes.audit?.();
  if (audit !== undefined)
    checks.push(
      Promise.resolve({
        name: "audit",
        kind: "audit",
        status: audit.state === "writable" ? "pass" : audit.state === "degraded" ? "warn" : "fail",
        reason:
          audit.state === "writable" ? "" : `audit log ${audit.state}: ${audit.reason ?? "no reason given"}`,
        ms: 0,
      }),
    );
  const backup = probes.backup?.();
  if (backup !== undefined)
    checks.push(
      Promise.resolve({
        name: "backup",
        kind: "backup",
        status: backup.state === "ok" ? "pass" : backup.state === "missed" ? "warn" : "fail",
        reason: backup.state === "ok" ? "" : `backup ${backup.state}: ${backup.reason ?? "no reason given"}`,
        ms: 0,
      }),
    );
  return Promise.all(checks);
}

function runnerChecks(options: RoundOptions): Promise<CheckResult>[] {
  const { probes } = options;
  const problems = options.runners?.take() ?? new Map<string, string[]>();
  const loaded = probes.loadedModels?.() ?? [];
  const models = new Set([...loaded.map((entry) => entry.model), ...problems.keys()]);
  return [...models].sort().map((model) => {
    const found = problems.get(model) ?? [];
    const pid = loaded.find((entry) => entry.model === model)?.pid;
    if (pid !== undefined && probes.isProcessAlive !== undefined && !probes.isProcessAlive(pid))
      found.push(`runner process ${pid} is gone`);
    return Promise.resolve({
      name: `runner:${model}`,
      kind: "runner" as const,
      status: found.length > 0 ? ("fail" as const) : ("pass" as const),
      reason: found.join("; "),
      ms: 0,
    });
  });
}

function diskStatus(disk: { freeBytes: number; totalBytes: number }): {
  status: CheckStatus;
  reason: string;
} {
  const freeMiB = Math.round(disk.freeBytes / 1024 ** 2);
  if (disk.freeBytes < diskFailBytes)
    return {
      status: "fail",
      reason: `${freeMiB} MiB free in the data folder; free space or move RAWRXD_HOME`,
    };
  if (disk.freeBytes < diskWarnBytes)
    return { status: "warn", reason: `${freeMiB} MiB free in the data folder` };
  return { status: "pass", reason: "" };
}

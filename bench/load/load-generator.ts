/**
 * The bounded, self-stopping load of `npm run bench:load` (issue #15 §3), also run by
 * test/integration/load-smoke.test.ts: a RawrXD server child process with audit on, `clients`
 * loops on loopback for `durationMs` (mixed priorities and dialects; some abort mid-stream,
 * cancel with DELETE or disconnect), the server's RSS and event-loop lag sampled meanwhile,
 * then a graceful stop and the audit check. Every request ends by itself or by the hang
 * timeout, so the run ends by itself too.
 */
import { Agent } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { seededRandom, systemTime, type MonotonicMs } from "../../src/core/index.js";
import { childrenOf } from "../engine/process-counters.js";
import { prepareModel, type ModelKey } from "../lib/models.js";
import { promptWords } from "../lib/prompt-words.js";
import { checkAudit, type AuditCheck } from "./audit-check.js";
import {
  dialects,
  priorities,
  sendRequest,
  type Behaviour,
  type InFlight,
  type LoadTarget,
  type RequestOutcome,
  type RequestPlan,
} from "./load-request.js";
import {
  readEventLoopLag,
  residentBytes,
  ServerProcess,
  type EventLoopLagReading,
} from "../lib/server-process.js";

export interface LoadOptions {
  model: ModelKey;
  clients: number;
  durationMs: number;
  /** The server's --max-queue. */
  maxQueue: number;
  /** Share of requests that abort mid-stream, cancel with DELETE, disconnect right after sending (the rest read to the end). */
  mix: Readonly<Record<Exclude<Behaviour, "complete">, number>>;
  /** max_tokens / num_predict, drawn uniformly from this range per request. */
  maxTokens: { min: number; max: number };
  /**
   * A request with no byte from the server for this long is a hang (it includes queue wait: no
   * byte is sent before a request starts), and so is one not ended within twice this.
   */
  hangTimeoutMs: number;
  /** RSS and event-loop lag every this many ms. */
  sampleIntervalMs: number;
  seed: number;
  /** Further `rawrxd serve` flags (--threads 1, --parallel 4, …). */
  serverFlags: readonly string[];
  /** Progress lines (stderr in the CLI, silent in tests). */
  log: (line: string) => void;
}

export interface Sample {
  /** ms since the load started. */
  atMs: number;
  mainRssBytes: number;
  /** Sum over the server's child processes (the runners). */
  runnerRssBytes: number;
  eventLoopLag: EventLoopLagReading | undefined;
  inFlight: number;
}

export interface LoadRun {
  options: Omit<LoadOptions, "log">;
  modelLabel: string;
  /** ms from the first client start to the last request's end. */
  elapsedMs: number;
  outcomes: RequestOutcome[];
  samples: Sample[];
  deleteStatuses: Record<string, number>;
  serverExit: { code: number | null; signal: string | null; killed: boolean };
  audit: AuditCheck;
}

const cancelledKinds = new Set(["aborted", "disconnected", "cancelled"]);

function planner(options: LoadOptions, modelName: string): () => RequestPlan {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  let index = 0;
  return () => {
    index += 1;
    const roll = random();
    const { abort, delete: cancel, disconnect } = options.mix;
    const behaviour: Behaviour =
      roll < abort
        ? "abort"
        : roll < abort + cancel
          ? "delete"
          : roll < abort + cancel + disconnect
            ? "disconnect"
            : "complete";
    const words = Array.from({ length: 12 + Math.floor(random() * 24) }, () => pick(promptWords));
    return {
      id: `load-${options.seed}-${index}`,
      model: modelName,
      dialect: pick(dialects),
      priority: pick(priorities),
      behaviour,
      prompt: `Once upon a time ${words.join(" ")}`,
      maxTokens:
        options.maxTokens.min + Math.floor(random() * (options.maxTokens.max - options.maxTokens.min + 1)),
      // abort: 0–300 ms into the stream; delete and disconnect: 0–1.5 s after sending (queued or running).
      actionDelayMs: Math.floor(random() * (behaviour === "abort" ? 300 : 1500)),
    };
  };
}

/** One request to load the model before the clock starts (its load time is not the load's). */
async function warmUp(target: LoadTarget, model: string): Promise<void> {
  const outcome = await sendRequest(
    target,
    {
      id: "load-warm-up",
      model,
      dialect: "openai",
      priority: "normal",
      behaviour: "complete",
      prompt: "Once upon a time",
      maxTokens: 4,
      actionDelayMs: 0,
    },
    (request) => {
      const timer = systemTime.setTimeout(
        () => request.giveUp("the warm-up did not end within 180 s"),
        180_000,
      );
      return () => timer.cancel();
    },
  );
  if (outcome.kind !== "served") {
    throw new Error(
      `The warm-up request was not served (${outcome.kind}, ${outcome.detail ?? outcome.status}).`,
    );
  }
}

async function sample(server: ServerProcess, startedAt: MonotonicMs, inFlight: number): Promise<Sample> {
  const runners = await childrenOf(server.pid);
  const [mainRssBytes, runnerRss, eventLoopLag] = await Promise.all([
    residentBytes(server.pid),
    Promise.all(runners.map((pid) => residentBytes(pid))),
    readEventLoopLag(server.url, 5_000),
  ]);
  return {
    atMs: systemTime.monotonicNow() - startedAt,
    mainRssBytes,
    runnerRssBytes: runnerRss.filter(Number.isFinite).reduce((sum, bytes) => sum + bytes, 0),
    eventLoopLag,
    inFlight,
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const model = await prepareModel(options.model);
  const modelName = basename(model.path, ".gguf");
  const home = await mkdtemp(join(tmpdir(), "rawrxd-load-"));
  const server = await ServerProcess.start({
    home,
    modelsDirectory: join(model.path, ".."),
    flags: ["--max-queue", String(options.maxQueue), "--no-demo-model", ...options.serverFlags],
    startTimeoutMs: 60_000,
  });
  try {
    // `timeout` makes the agent honour the server's Keep-Alive hint (5 s): it retires an idle
    // socket a second early (Node applies the hint only below the agent's own timeout), so a
    // client back from its Retry-After wait never writes into a socket the server is closing.
    const agent = new Agent({ keepAlive: true, maxSockets: options.clients * 2 + 8, timeout: 600_000 });
    const target: LoadTarget = { url: server.url, agent, deleteStatuses: new Map() };
    await warmUp(target, modelName);
    options.log(
      `server ${server.url} (pid ${server.pid}), ${modelName} loaded; ${options.clients} clients for ${options.durationMs / 1000} s`,
    );

    const inFlight = new Set<InFlight>();
    const track = (request: InFlight): (() => void) => {
      inFlight.add(request);
      return () => inFlight.delete(request);
    };
    const outcomes: RequestOutcome[] = [];
    const samples: Sample[] = [];
    const nextPlan = planner(options, modelName);
    const random = seededRandom(options.seed ^ 0x5eed);
    const startedAt = systemTime.monotonicNow();
    const endAt = startedAt + options.durationMs;

    const sweeper = systemTime.setInterval(() => {
      const now = systemTime.monotonicNow();
      for (const request of inFlight) {
        if (now - request.lastProgressAt > options.hangTimeoutMs) {
          request.giveUp(`no byte from the server for ${options.hangTimeoutMs / 1000} s`);
        } else if (now - request.sentAt > 2 * options.hangTimeoutMs) {
          // Heartbeats alone must not keep a request that never ends alive: the run must end.
          request.giveUp(`no end of the stream within ${(2 * options.hangTimeoutMs) / 1000} s`);
        }
      }
    }, 1_000);
    let isSampling = false;
    const sampler = systemTime.setInterval(() => {
      if (isSampling) return; // a slow /metrics read skips a beat rather than piling up
      isSampling = true;
      void sample(server, startedAt, inFlight.size)
        .then((reading) => {
          samples.push(reading);
          const lag =
            reading.eventLoopLag === undefined ? "–" : `${reading.eventLoopLag.p99Ms.toFixed(1)} ms`;
          options.log(
            `  ${(reading.atMs / 1000).toFixed(0)} s: ${outcomes.length} done, ${reading.inFlight} in flight, main RSS ${(reading.mainRssBytes / 2 ** 20).toFixed(0)} MiB, lag p99 ${lag}`,
          );
        })
        .finally(() => (isSampling = false));
    }, options.sampleIntervalMs);

    const client = async (): Promise<void> => {
      // Staggered over the first second: the first burst is still far beyond --max-queue.
      await systemTime.sleep(random() * 1_000);
      while (systemTime.monotonicNow() < endAt) {
        const outcome = await sendRequest(target, nextPlan(), track);
        outcomes.push({ ...outcome, plan: { ...outcome.plan, prompt: "" } }); // a soak keeps many
        // A rejected client waits as Retry-After asks (jittered, at most 5 s); others think briefly.
        const pauseMs =
          outcome.kind === "rejected"
            ? Math.min(outcome.retryAfterSeconds ?? 1, 5) * 1000 * (0.5 + random() / 2)
            : random() * 200;
        if (systemTime.monotonicNow() + pauseMs < endAt) await systemTime.sleep(pauseMs);
      }
    };
    await Promise.all(Array.from({ length: options.clients }, () => client()));
    const elapsedMs = systemTime.monotonicNow() - startedAt;
    sweeper.cancel();
    sampler.cancel();
    samples.push(await sample(server, startedAt, 0));
    agent.destroy();

    options.log("stopping the server (SIGTERM) and checking the audit log");
    const serverExit = await server.stop(60_000);
    const served = outcomes.filter((outcome) => outcome.kind === "served").map((outcome) => outcome.plan.id);
    const cancelled = outcomes
      .filter((outcome) => cancelledKinds.has(outcome.kind))
      .map((outcome) => outcome.plan.id);
    const audit = await checkAudit(home, { served, cancelled });
    const { log: _log, ...recorded } = options;
    return {
      options: recorded,
      modelLabel: model.label,
      elapsedMs,
      outcomes,
      samples,
      deleteStatuses: Object.fromEntries(target.deleteStatuses),
      serverExit,
      audit,
    };
  } finally {
    server.kill();
    await rm(home, { recursive: true, force: true });
  }
}

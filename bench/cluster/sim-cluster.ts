/**
 * One simulation run: a discrete-event loop in virtual time over simulated nodes (sim-nodes.ts),
 * with a real placement policy and real BullMQ queues on a real Redis. Events run one at a time,
 * so Redis latency costs wall time, never virtual time.
 *
 * - "shared" (the cluster design, with affinity placement): one BullMQ queue per model with job
 *   priorities. The policy decides where a model loads; any node holding the model takes the
 *   next job with `Worker.getNextJob` (highest priority first, FIFO within one) as soon as it
 *   has a free ready sequence, and `moveToCompleted` ends it after its service time.
 * - "per-node" (a proxy in front of independent nodes, with random placement): the request is
 *   bound to the chosen node. It travels through that node's BullMQ queue and waits in the
 *   node's own per-model priority queue (simulated, as a standalone node's scheduler would)
 *   until that node has the model ready and a free sequence.
 */
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { PlacementPolicy } from "../../src/cluster/index.js";
import { priorities, systemTime, type Priority } from "../../src/core/index.js";
import { EventHeap } from "./event-heap.js";
import { advertsOf, createNodes, startLoad, type HeldModel, type SimNode } from "./sim-nodes.js";
import type { SimRequest, SimWorld } from "./sim-world.js";

const bullPriority: Record<Priority, number> = { high: 1, normal: 2, low: 3 };

interface JobData {
  priority: Priority;
  arrivalMs: number;
  serviceMs: number;
}

type SimJob = Job<JobData>;
type ByPriority<T> = Record<Priority, T>;

type SimEvent =
  | { kind: "arrival"; request: SimRequest }
  | { kind: "done"; node: SimNode; model: string; job: SimJob; token: string }
  | { kind: "loaded"; node: SimNode; model: string };

export type Routing = "shared" | "per-node";

export interface SimResult {
  policy: string;
  routing: Routing;
  nodes: number;
  models: number;
  requests: number;
  completed: number;
  rejected: number;
  /** Requests still waiting when no event was left (no node could take them). */
  stranded: number;
  loads: number;
  evictions: number;
  virtualSeconds: number;
  throughputPerSecond: number;
  waitMs: ByPriority<number[]>;
  wallSeconds: number;
  /** BullMQ calls (add, getNextJob, moveToCompleted) per wall second. */
  queueCallsPerWallSecond: number;
}

export interface SimRunOptions {
  policy: PlacementPolicy;
  policyName: string;
  routing: Routing;
  redisUrl: string;
  /** Queue names are prefixed with it, so runs never share a queue. */
  runId: string;
}

const count = (queued: ByPriority<number>) => queued.high + queued.normal + queued.low;

export async function runSimulation(world: SimWorld, options: SimRunOptions): Promise<SimResult> {
  const specs = new Map(world.models.map((model) => [model.name, model]));
  const nodes = createNodes(world);
  const byId = new Map(nodes.map((node) => [node.spec.nodeId, node]));
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const prefix = `sim-${options.runId}`;
  const channels = new Map<string, { queue: Queue<JobData>; worker: Worker<JobData> }>();
  const channel = (name: string) => {
    let found = channels.get(name);
    if (found === undefined) {
      found = {
        queue: new Queue<JobData>(name, { connection, prefix }),
        worker: new Worker<JobData>(name, null, { connection, prefix, autorun: false }),
      };
      channels.set(name, found);
    }
    return found;
  };
  /** Shared routing: jobs waiting in each model's queue, by priority (mirrors Redis). */
  const waiting = new Map(world.models.map((model) => [model.name, { high: 0, normal: 0, low: 0 }]));
  /** Per-node routing: jobs each node holds for each model, by priority. */
  const local = new Map<string, ByPriority<{ job: SimJob; token: string }[]>>();
  const localOf = (node: SimNode, model: string) => {
    const key = `${node.spec.nodeId}/${model}`;
    let found = local.get(key);
    if (found === undefined) local.set(key, (found = { high: [], normal: [], low: [] }));
    return found;
  };
  const localCounts = (node: SimNode, model: string): ByPriority<number> => {
    const queued = localOf(node, model);
    return { high: queued.high.length, normal: queued.normal.length, low: queued.low.length };
  };
  const waitMs: ByPriority<number[]> = { high: [], normal: [], low: [] };
  const heap = new EventHeap<SimEvent>();
  for (const request of world.requests) heap.push(request.arrivalMs, { kind: "arrival", request });
  const counts = { completed: 0, rejected: 0, loads: 0, evictions: 0, queueCalls: 0 };
  let nowMs = 0;
  let tokens = 0;
  let lastCompletionMs = 0;

  const holdersOf = (model: string) => nodes.filter((node) => node.models.has(model));
  const isIdle = (node: SimNode) => (held: HeldModel) =>
    held.state === "ready" &&
    held.active === 0 &&
    count(options.routing === "shared" ? waiting.get(held.spec.name)! : localCounts(node, held.spec.name)) ===
      0;
  const queuedOf = (node: SimNode, model: string): ByPriority<number> => {
    if (options.routing === "per-node") return localCounts(node, model);
    // One shared queue per model: each holder advertises its share of the waiting jobs.
    const share = holdersOf(model).length;
    const queued = waiting.get(model)!;
    return {
      high: Math.ceil(queued.high / share),
      normal: Math.ceil(queued.normal / share),
      low: Math.ceil(queued.low / share),
    };
  };
  const hasFreeSequence = (node: SimNode, model: string) => {
    const held = node.models.get(model);
    return held !== undefined && held.state === "ready" && held.active < world.sequencesPerModel;
  };
  const start = (node: SimNode, model: string, taken: { job: SimJob; token: string }) => {
    const { job, token } = taken;
    node.models.get(model)!.active += 1;
    waitMs[job.data.priority].push(nowMs - job.data.arrivalMs);
    heap.push(nowMs + job.data.serviceMs, { kind: "done", node, model, job, token });
  };

  /** Shared: holders with a free ready sequence take the model's next jobs, least busy first. */
  const dispatchShared = async (model: string): Promise<void> => {
    while (count(waiting.get(model)!) > 0) {
      const node = holdersOf(model)
        .filter((holder) => hasFreeSequence(holder, model))
        .sort((left, right) => left.models.get(model)!.active - right.models.get(model)!.active)[0];
      if (node === undefined) return;
      const token = `${node.spec.nodeId}:${(tokens += 1)}`;
      counts.queueCalls += 1;
      const job = await channel(model).worker.getNextJob(token, { block: false });
      if (job === undefined)
        throw new Error(`The queue of ${model} is empty while the simulation counts waiting jobs.`);
      waiting.get(model)![job.data.priority] -= 1;
      start(node, model, { job, token });
    }
  };
  /** Per-node: the node starts its own waiting requests of the model, highest priority first. */
  const dispatchLocal = (node: SimNode, model: string): void => {
    const queued = localOf(node, model);
    while (hasFreeSequence(node, model)) {
      const next = priorities
        .map((priority) => queued[priority])
        .find((list) => list.length > 0)
        ?.shift();
      if (next === undefined) return;
      start(node, model, next);
    }
  };
  const dispatch = (node: SimNode, model: string) =>
    options.routing === "shared" ? dispatchShared(model) : dispatchLocal(node, model);

  const arrive = async (request: SimRequest): Promise<void> => {
    const spec = specs.get(request.model)!;
    const nodesNow = advertsOf(nodes, { nowMs, sequencesPerModel: world.sequencesPerModel, queuedOf });
    const placement = options.policy({
      model: spec.name,
      memoryEstimateBytes: spec.sizeBytes,
      nodes: nodesNow,
    });
    if (placement.kind === "none") {
      counts.rejected += 1;
      return;
    }
    const target = byId.get(placement.kind === "load" ? placement.nodeId : placement.nodeIds[0]!)!;
    if (placement.kind === "load") {
      const loaded = startLoad(target, spec, { nowMs, isIdle: isIdle(target) });
      if (loaded !== undefined) {
        counts.loads += 1;
        counts.evictions += loaded.evictions;
        heap.push(nowMs + spec.loadMs, { kind: "loaded", node: target, model: spec.name });
      }
    }
    const data: JobData = {
      priority: request.priority,
      arrivalMs: request.arrivalMs,
      serviceMs: request.serviceMs,
    };
    const jobOptions = {
      priority: bullPriority[request.priority],
      removeOnComplete: true,
      jobId: request.id,
    };
    counts.queueCalls += 1;
    if (options.routing === "shared") {
      await channel(spec.name).queue.add("generate", data, jobOptions);
      waiting.get(spec.name)![request.priority] += 1;
      await dispatchShared(spec.name);
      return;
    }
    const { queue, worker } = channel(target.spec.nodeId);
    await queue.add("generate", data, jobOptions);
    const token = `${target.spec.nodeId}:${(tokens += 1)}`;
    counts.queueCalls += 1;
    const job = await worker.getNextJob(token, { block: false });
    if (job === undefined)
      throw new Error(`The queue of ${target.spec.nodeId} lost a job it was just given.`);
    localOf(target, spec.name)[job.data.priority].push({ job, token });
    dispatchLocal(target, spec.name);
  };

  const handle = async (event: SimEvent): Promise<void> => {
    if (event.kind === "arrival") return arrive(event.request);
    const held = event.node.models.get(event.model)!;
    if (event.kind === "done") {
      counts.queueCalls += 1;
      await event.job.moveToCompleted("ok", event.token, false);
      held.active -= 1;
      held.lastUsedMs = nowMs;
      counts.completed += 1;
      lastCompletionMs = nowMs;
    } else {
      held.state = "ready";
      held.loadMs = held.spec.loadMs;
    }
    await dispatch(event.node, event.model);
  };

  const startedMs = systemTime.monotonicNow();
  try {
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
      nowMs = next.atMs;
      await handle(next.item);
    }
  } finally {
    for (const { worker } of channels.values()) await worker.close();
    for (const { queue } of channels.values()) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await connection.quit();
  }
  const wallSeconds = (systemTime.monotonicNow() - startedMs) / 1000;
  const virtualSeconds = lastCompletionMs / 1000;
  const strandedLocal = [...local.values()].reduce(
    (sum, queued) => sum + priorities.reduce((total, priority) => total + queued[priority].length, 0),
    0,
  );
  return {
    policy: options.policyName,
    routing: options.routing,
    nodes: nodes.length,
    models: world.models.length,
    requests: world.requests.length,
    completed: counts.completed,
    rejected: counts.rejected,
    stranded: strandedLocal + [...waiting.values()].reduce((sum, queued) => sum + count(queued), 0),
    loads: counts.loads,
    evictions: counts.evictions,
    virtualSeconds,
    throughputPerSecond: virtualSeconds > 0 ? counts.completed / virtualSeconds : 0,
    waitMs,
    wallSeconds,
    queueCallsPerWallSecond: counts.queueCalls / wallSeconds,
  };
}

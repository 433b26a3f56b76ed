/**
 * The simulated world of `bench:cluster-sim`: models (size, load time, service time), nodes
 * (memory budget, starting residents) and a workload (Zipf-ish model popularity, mixed
 * priorities, Poisson arrivals sized to a target utilisation). All drawn from one seed, so
 * both policies see the same world and the same requests.
 */
import { seededRandom } from "../../src/cluster/index.js";
import type { Priority } from "../../src/core/index.js";

export const gib = 1024 ** 3;

export interface SimModelSpec {
  name: string;
  sizeBytes: number;
  /** Virtual ms a load takes (size at ~1.5 GB/s plus a fixed start-up). */
  loadMs: number;
  /** Mean virtual ms a request holds a sequence (1-3 s: a few hundred tokens). */
  serviceMs: number;
}

export interface SimNodeSpec {
  nodeId: string;
  budgetBytes: number;
  /** Models loaded at the start (same for both policies). */
  residents: string[];
}

export interface SimRequest {
  id: string;
  model: string;
  priority: Priority;
  arrivalMs: number;
  serviceMs: number;
}

export interface SimWorld {
  models: SimModelSpec[];
  nodes: SimNodeSpec[];
  requests: SimRequest[];
  sequencesPerModel: number;
  /** Requests per virtual second offered. */
  arrivalRatePerSecond: number;
}

export interface WorldOptions {
  nodes: number;
  requests: number;
  seed: number;
  /** Offered load as a fraction of the cluster's sequences (one model per node busy). */
  utilisation: number;
}

const priorityMix: readonly (readonly [Priority, number])[] = [
  ["high", 0.1],
  ["normal", 0.6],
  ["low", 0.3],
];

/** Zipf weights 1/rank^s, as cumulative fractions. */
function zipfCumulative(count: number, exponent: number): number[] {
  const weights = Array.from({ length: count }, (_, rank) => 1 / (rank + 1) ** exponent);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let running = 0;
  return weights.map((weight) => (running += weight / total));
}

function pick<T>(cumulative: readonly number[], items: readonly T[], draw: number): T {
  const index = cumulative.findIndex((edge) => draw <= edge);
  return items[index === -1 ? items.length - 1 : index]!;
}

export function createWorld(options: WorldOptions): SimWorld {
  const random = seededRandom(options.seed);
  const sequencesPerModel = 4;
  const modelCount = Math.max(8, Math.round(options.nodes / 2));
  const models = Array.from({ length: modelCount }, (_, index): SimModelSpec => {
    const sizeBytes = Math.round((1 + random() * 5) * gib);
    return {
      name: `model-${String(index).padStart(3, "0")}`,
      sizeBytes,
      loadMs: Math.round(300 + sizeBytes / 1_500_000),
      serviceMs: Math.round(1000 + random() * 2000),
    };
  });
  const nodes = Array.from({ length: options.nodes }, (_, index): SimNodeSpec => {
    const budgetBytes = [12, 16, 24][index % 3]! * gib;
    return {
      nodeId: `node-${String(index).padStart(3, "0")}`,
      budgetBytes,
      residents: [models[index % modelCount]!.name],
    };
  });
  const meanServiceMs = models.reduce((sum, model) => sum + model.serviceMs, 0) / modelCount;
  const capacityPerSecond = (options.nodes * sequencesPerModel * 1000) / meanServiceMs;
  const arrivalRatePerSecond = capacityPerSecond * options.utilisation;
  const popularity = zipfCumulative(modelCount, 1.1);
  const priorityEdges = cumulativeOf(priorityMix.map(([, share]) => share));
  let clockMs = 0;
  const requests = Array.from({ length: options.requests }, (_, index): SimRequest => {
    clockMs += (-Math.log(1 - random()) * 1000) / arrivalRatePerSecond;
    const model = pick(popularity, models, random());
    return {
      id: `r${index}`,
      model: model.name,
      priority: pick(
        priorityEdges,
        priorityMix.map(([priority]) => priority),
        random(),
      ),
      arrivalMs: clockMs,
      serviceMs: model.serviceMs * (0.5 + random()),
    };
  });
  return { models, nodes, requests, sequencesPerModel, arrivalRatePerSecond };
}

/** Cumulative fractions of given shares. */
function cumulativeOf(shares: readonly number[]): number[] {
  let running = 0;
  return shares.map((share) => (running += share));
}

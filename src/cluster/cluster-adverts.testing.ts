/** Node adverts for placement and view tests: small builders with readable defaults. */
import type { NodeAdvert, NodeModelAdvert } from "./contract.js";

export const gib = 1024 ** 3;

export function modelAdvert(name: string, overrides: Partial<NodeModelAdvert> = {}): NodeModelAdvert {
  return {
    name,
    state: "ready",
    sequences: { total: 4, active: 0 },
    queued: { high: 0, normal: 0, low: 0 },
    memoryEstimateBytes: 2 * gib,
    averageServiceMs: null,
    loadMs: null,
    ...overrides,
  };
}

export function nodeAdvert(
  nodeId: string,
  options: { models?: NodeModelAdvert[]; budgetGib?: number; isAccepting?: boolean } = {},
): NodeAdvert {
  const models = options.models ?? [];
  return {
    nodeId,
    url: `http://127.0.0.1:1/${nodeId}`,
    heartbeatAtMs: 1_000,
    startedAtMs: 0,
    version: "test",
    models,
    memory: {
      budgetBytes: (options.budgetGib ?? 16) * gib,
      usedBytes: models.reduce((sum, model) => sum + model.memoryEstimateBytes, 0),
    },
    isAccepting: options.isAccepting ?? true,
  };
}

/** A holder with every sequence busy and `queued` normal requests waiting. */
export function busyModel(
  name: string,
  queued: number,
  overrides: Partial<NodeModelAdvert> = {},
): NodeModelAdvert {
  return modelAdvert(name, {
    sequences: { total: 4, active: 4 },
    queued: { high: 0, normal: queued, low: 0 },
    ...overrides,
  });
}

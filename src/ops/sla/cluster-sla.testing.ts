/** Adverts and local statuses for the cluster SLA tests. */
import type { ClusterAdvert, LocalSlaStatus } from "./cluster-health.js";
import type { CheckResult } from "./service-state.js";

const gib = 1024 ** 3;

export function advert(
  nodeId: string,
  heartbeatAtMs: number,
  models: [name: string, state: "loading" | "ready" | "unloading"][],
): ClusterAdvert {
  return {
    nodeId,
    url: `http://127.0.0.1:${7000 + nodeId.charCodeAt(nodeId.length - 1)}`,
    heartbeatAtMs,
    isAccepting: true,
    models: models.map(([name, state]) => ({ name, state, memoryEstimateBytes: 2 * gib })),
    memory: { budgetBytes: 8 * gib, usedBytes: models.length * 2 * gib },
  };
}

export function localStatus(checks: Pick<CheckResult, "name" | "kind" | "status">[]): LocalSlaStatus {
  const results = checks.map((check) => ({
    ...check,
    reason: check.status === "pass" ? "" : "broken",
    ms: 1,
  }));
  const failing = results.filter((check) => check.status !== "pass");
  const modelChecks = results.filter((check) => check.kind === "runner" || check.kind === "probe");
  const down =
    results.some((check) => check.kind === "front" && check.status === "fail") ||
    (modelChecks.length > 0 && modelChecks.every((check) => check.status === "fail"));
  const observedState = down ? "down" : failing.length > 0 ? "degraded" : "up";
  return { state: observedState, observedState, checks: results };
}

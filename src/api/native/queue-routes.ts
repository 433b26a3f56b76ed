/**
 * Queue visibility and cancellation: GET /v1/queue (per model and priority: queued, running,
 * oldest wait), GET /v1/queue/{id} (position and estimated start), DELETE /v1/requests/{id}.
 * To poll or cancel a request that is still queued, send your own X-Request-Id with it. An admin
 * caller also gets every request in GET /v1/queue (the shell's queue table cancels from there).
 */
import type { Hono } from "hono";
import { AppError } from "../../core/index.js";
import { checkRequestOwner } from "../caller.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import type { RequestStatus } from "../../scheduler/index.js";

function requestJson(status: RequestStatus) {
  return {
    id: status.id,
    model: status.model,
    priority: status.priority,
    state: status.state,
    waited_ms: status.waitedMs,
    position: status.position,
    estimated_start_ms: status.estimatedStartMs,
    preemptions: status.preemptions,
  };
}

export function mountQueueRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.get("/v1/queue", (context) => {
    const snapshot = deps.queue.snapshot();
    const isAdmin = context.get("caller").role === "admin";
    return context.json({
      queued: snapshot.queued,
      max_queued: snapshot.maxQueued,
      policy: snapshot.policy,
      preemption: snapshot.isPreemptionEnabled,
      aging_step_ms: snapshot.agingStepMs,
      models: snapshot.models.map((model) => ({
        model: model.model,
        state: model.state,
        pinned: model.isPinned,
        sequences: model.sequences,
        memory_estimate_bytes: model.memoryEstimateBytes,
        average_service_ms: model.averageServiceMs,
        priorities: Object.fromEntries(
          Object.entries(model.priorities).map(([priority, view]) => [
            priority,
            { queued: view.queued, running: view.running, oldest_wait_ms: view.oldestWaitMs },
          ]),
        ),
      })),
      ...(isAdmin ? { requests: snapshot.requests.map(requestJson) } : {}),
      ...(snapshot.cluster === undefined
        ? {}
        : // Each live node's advert as the cluster contract has it (the shell and `rawrxd ps` read it).
          { node_id: snapshot.cluster.nodeId, nodes: snapshot.cluster.nodes }),
    });
  });
  app.get("/v1/queue/:id", (context) => {
    const id = context.req.param("id");
    checkRequestOwner(context, id);
    const status = deps.queue.snapshot().requests.find((request) => request.id === id);
    if (status === undefined)
      throw new AppError("not-found", `No queued or running request has id "${id}"; it may have finished.`);
    return context.json(requestJson(status));
  });
  app.delete("/v1/requests/:id", async (context) => {
    const id = context.req.param("id");
    checkRequestOwner(context, id);
    const state = await deps.queue.cancel(id);
    if (state === undefined)
      throw new AppError("not-found", `No queued or running request has id "${id}"; it may have finished.`);
    return context.json({ id, cancelled: true, state });
  });
}

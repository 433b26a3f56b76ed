/**
 * The backlog of the cluster queue per priority: jobs admitted into the models' BullMQ queues in
 * Redis that no node has taken yet. Node adverts count only what a node took and waits on (a
 * sequence, a load), so the cluster metrics read these counts too. Refreshed once a heartbeat
 * (one small Lua call per model queue, BullMQ's getCountsPerPriority) and read synchronously;
 * while Redis is unreachable the last counts stay.
 */
import type { Queue } from "bullmq";
import { priorities, type Priority } from "../core/index.js";
import { bullPriority } from "./wire.js";

const noneQueued = (): Record<Priority, number> => ({ high: 0, normal: 0, low: 0 });

export class RedisBacklog {
  readonly #queueFor: (model: string) => Queue;
  #latest = noneQueued();
  #byModel: Record<string, Record<Priority, number>> = {};
  #isRefreshing = false;

  constructor(queueFor: (model: string) => Queue) {
    this.#queueFor = queueFor;
  }

  /** Waiting jobs per priority over the models of the last refresh. */
  get latest(): Readonly<Record<Priority, number>> {
    return this.#latest;
  }

  /** Waiting jobs per model (those with any) and priority, from the last refresh. */
  get byModel(): Readonly<Record<string, Readonly<Record<Priority, number>>>> {
    return this.#byModel;
  }

  /** Counts the queues of `models`; a refresh still running makes this one a no-op. */
  async refresh(models: Iterable<string>): Promise<void> {
    if (this.#isRefreshing) return;
    this.#isRefreshing = true;
    try {
      const ranks = priorities.map((priority) => bullPriority[priority]);
      const names = [...new Set(models)].sort();
      const counts = await Promise.all(
        names.map((model) => this.#queueFor(model).getCountsPerPriority(ranks)),
      );
      const totals = noneQueued();
      const byModel: Record<string, Record<Priority, number>> = {};
      counts.forEach((count, index) => {
        const model = noneQueued();
        for (const priority of priorities) model[priority] = count[String(bullPriority[priority])] ?? 0;
        for (const priority of priorities) totals[priority] += model[priority];
        if (priorities.some((priority) => model[priority] > 0)) byModel[names[index]!] = model;
      });
      this.#latest = totals;
      this.#byModel = byModel;
    } catch {
      // Redis unreachable: keep the last counts (the heartbeat logs the outage).
    } finally {
      this.#isRefreshing = false;
    }
  }
}

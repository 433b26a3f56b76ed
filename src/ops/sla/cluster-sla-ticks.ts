/**
 * Drives the cluster SLA on the health-check interval: each tick reads the live nodes' adverts
 * (the membership, through a function src/app builds) and this node's own SLA status, and
 * observes them. A tick whose adverts cannot be read (Redis unreachable) is skipped and logged:
 * the cluster's timeline shows that stretch as `unknown` once it exceeds three intervals.
 */
import type { Logger, TimePort } from "../../core/index.js";
import type { ClusterAdvert, LocalSlaStatus } from "./cluster-health.js";
import type { ClusterSla } from "./cluster-sla.js";

export interface ClusterSlaTicksOptions {
  sla: ClusterSla;
  time: TimePort;
  logger: Logger;
  intervalMs: number;
  /** The live nodes' adverts (this node's included). */
  nodes: () => Promise<readonly ClusterAdvert[]>;
  /** This node's own SLA status (SlaManager.status()). */
  localStatus: () => LocalSlaStatus;
}

export interface ClusterSlaTicks {
  /** One tick now (the timer calls it; tests may too); one at a time. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

export function startClusterSlaTicks(options: ClusterSlaTicksOptions): ClusterSlaTicks {
  const { sla, time, logger } = options;
  let running: Promise<void> | undefined;
  let isClosed = false;
  let failures = 0;
  const tick = (): Promise<void> => {
    if (isClosed) return Promise.resolve();
    running ??= options
      .nodes()
      .then((adverts) => {
        if (isClosed) return;
        sla.observe(adverts, options.localStatus());
        if (failures > 0) logger.info("cluster SLA: node adverts readable again", { failedTicks: failures });
        failures = 0;
      })
      .catch((error: unknown) => {
        failures += 1;
        // Once per outage, not every tick.
        if (failures === 1)
          logger.warn("cluster SLA: could not read the node adverts; this tick is skipped (check Redis)", {
            error: String(error),
          });
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer = time.setInterval(() => void tick(), options.intervalMs).unref();
  void tick();
  return {
    tick,
    close: async () => {
      timer.cancel();
      isClosed = true;
      await running;
    },
  };
}

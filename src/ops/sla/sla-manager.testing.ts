/**
 * An SlaManager on FakeTime for tests: an in-memory database unless one is given, the events it
 * emits collected, and what must be closed pushed onto the caller's cleanup list.
 */
import { EventBus, silentLogger, type FakeTime, type ServerEvents } from "../../core/index.js";
import { Database } from "../../store/index.js";
import { AlertDispatch } from "./alert-dispatch.js";
import type { SlaProbes } from "./health-checks.js";
import { SlaManager } from "./sla-manager.js";
import { SlaStore } from "./sla-store.js";

export function startTestSlaManager(options: {
  time: FakeTime;
  probes: SlaProbes;
  cleanups: (() => unknown)[];
  database?: Database | undefined;
}) {
  const { time, probes, cleanups, database: given } = options;
  const database = given ?? Database.open({ path: ":memory:" });
  if (given === undefined) cleanups.push(() => database.close());
  const events = new EventBus();
  const alerts: ServerEvents["sla-alert"][] = [];
  const incidents: ServerEvents["sla-incident"][] = [];
  events.on("sla-alert", (alert) => alerts.push(alert));
  events.on("sla-incident", (incident) => incidents.push(incident));
  const manager = new SlaManager({
    store: new SlaStore(database),
    events,
    logger: silentLogger,
    time,
    settings: { intervalMs: 10_000, targetPercent: 99.9 },
    probes,
    alerts: new AlertDispatch({ events, logger: silentLogger, webhook: undefined }),
  });
  cleanups.push(() => manager.close());
  return { manager, events, alerts, incidents, database };
}

/** Operations services (metrics, audit, SLA, backup): subscribed to core events, mounted by src/app. */
export * from "./metrics/index.js";
export * from "./audit/index.js";
export * from "./sla/index.js";
export * from "./backup/index.js";

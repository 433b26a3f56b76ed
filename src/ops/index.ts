/** Operations services (metrics, audit, backup; SLA to come): subscribed to core events, mounted by src/app. */
export * from "./metrics/index.js";
export * from "./audit/index.js";
export * from "./backup/index.js";

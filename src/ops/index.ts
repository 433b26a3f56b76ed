/** Operations services (metrics, audit; backup and SLA to come): subscribed to core events, mounted by src/app. */
export * from "./metrics/index.js";
export * from "./audit/index.js";

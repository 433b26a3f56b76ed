/** Shared kernel: domain types, the error base, the event port, the time port (and its fake), the logger port. */
export * from "./errors.js";
export * from "./inference.js";
export * from "./text-pieces.js";
export * from "./events.js";
export * from "./sla-events.js";
export * from "./backup-events.js";
export * from "./logger.js";
export * from "./ids.js";
export * from "./seeded-random.js";
export * from "./time.js";
export * from "./fake-time.js";
export * from "./bytes.js";
export * from "./access.js";
export * from "./audit-events.js";
export * from "./tool-support.js";
export * from "./contained-path.js";
export * from "./tokenizer.js";

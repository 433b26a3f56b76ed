/** Shared kernel: domain types, the error base, the event port, clock and logger ports. */
export * from "./errors.js";
export * from "./inference.js";
export * from "./events.js";
export * from "./logger.js";
export * from "./clock.js";
export * from "./ids.js";
export * from "./seeded-random.js";

/**
 * bullmq and ioredis, loaded on first use: a server without --cluster never loads them (~200 ms
 * of start-up and ~25 MiB; ADR 0060). Both are CommonJS, so `import` and this `require` share
 * one instance.
 */
import { createRequire } from "node:module";
import type * as BullMq from "bullmq";
import type * as IoRedis from "ioredis";

const require = createRequire(import.meta.url);

export const bullmq = (): typeof BullMq => require("bullmq") as typeof BullMq;
export const ioredis = (): typeof IoRedis => require("ioredis") as typeof IoRedis;

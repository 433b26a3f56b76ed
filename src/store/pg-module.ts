/**
 * pg, loaded on first use: a server without --store or a PostgreSQL audit witness never loads it
 * (~80 ms of start-up and ~15 MiB; ADR 0060). pg is CommonJS, so `import` and this `require`
 * share one instance.
 */
import { createRequire } from "node:module";
import type pg from "pg";

const require = createRequire(import.meta.url);

export const pgModule = (): typeof pg => require("pg") as typeof pg;

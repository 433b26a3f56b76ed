/**
 * Reads a `perf script` trace of the scheduler's tracepoints (`sched_wakeup_new`, `sched_switch`,
 * `sched_migrate_task`, `--ns` times on CLOCK_MONOTONIC): the threads one process made, where the
 * kernel started each against the CPU its creator was on, how long each waited to run and lived.
 * Used by `npm run bench:helper-threads` (ADR 0063).
 */
/** What one block's trace says about the threads its process made while decoding. */
export interface HelperStats {
  decodeTokensPerSecond: number;
  tokens: number;
  helpers: number;
  /** Started on the CPU their creator was running on. */
  onCreatorsCpu: number;
  /** From creation to first run, ms, per helper. */
  waitMs: number[];
  /** From creation to the last switch-out, ms, per helper. */
  lifetimeMs: number[];
  migrations: number;
}

const eventLine = /^\s*\S+\s+(\d+)\/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(sched_\w+):\s+(.*)$/;

/** Reads `perf script` text: the helpers made by threads of `pid` inside the window (ns). */
export function helperStats(
  text: string,
  pid: number,
  windowNs: [bigint, bigint],
): Omit<HelperStats, "decodeTokensPerSecond" | "tokens"> {
  const created = new Map<number, { atNs: bigint; onCreatorsCpu: boolean }>();
  const firstRun = new Map<number, bigint>();
  const lastOut = new Map<number, bigint>();
  let migrations = 0;
  for (const line of text.split("\n")) {
    const match = eventLine.exec(line);
    if (match === null) continue;
    const [, eventPid, , cpu, seconds, event, fields] = match;
    const [whole, fraction = ""] = seconds!.split(".");
    const atNs = BigInt(whole!) * 1_000_000_000n + BigInt(fraction.padEnd(9, "0").slice(0, 9));
    if (event === "sched_wakeup_new") {
      if (Number(eventPid) !== pid || atNs < windowNs[0] || atNs > windowNs[1]) continue;
      const child = Number(/\bpid=(\d+)/.exec(fields!)?.[1]);
      const target = Number(/target_cpu=(\d+)/.exec(fields!)?.[1]);
      created.set(child, { atNs, onCreatorsCpu: target === Number(cpu) });
    } else if (event === "sched_switch") {
      const next = Number(/next_pid=(\d+)/.exec(fields!)?.[1]);
      const previous = Number(/prev_pid=(\d+)/.exec(fields!)?.[1]);
      if (created.has(next) && !firstRun.has(next)) firstRun.set(next, atNs);
      if (created.has(previous)) lastOut.set(previous, atNs);
    } else if (event === "sched_migrate_task") {
      if (created.has(Number(/\bpid=(\d+)/.exec(fields!)?.[1]))) migrations += 1;
    }
  }
  const ms = (ns: bigint): number => Number(ns) / 1e6;
  const helpers = [...created.entries()];
  return {
    helpers: helpers.length,
    onCreatorsCpu: helpers.filter(([, helper]) => helper.onCreatorsCpu).length,
    waitMs: helpers.flatMap(([tid, helper]) => {
      const at = firstRun.get(tid);
      return at === undefined ? [] : [ms(at - helper.atNs)];
    }),
    lifetimeMs: helpers.flatMap(([tid, helper]) => {
      const at = lastOut.get(tid);
      return at === undefined ? [] : [ms(at - helper.atNs)];
    }),
    migrations,
  };
}

/** What the queue suite runs: models, server settings, load shape, windows and seeds. */
export const queueSettings = {
  modelFile: "synthetic 134M q8_0",
  /** Two names for one file (a hard link): the same cost per token, so both queues saturate alike. */
  mixedModels: ["synthetic-134m-a", "synthetic-134m-b"],
  threads: 1,
  contextSize: 512,
  mixed: {
    maxTokens: 32,
    parallel: 2,
    /** Closed-loop clients per model: every sequence busy and 4 requests waiting per model. */
    clientsPerModel: 6,
    windowMs: 30_000,
    quickWindowMs: 10_000,
    /**
     * Then both policies at once, same seeded lists, for the throughput ratio: the runners of the
     * two servers share the CPU, so whatever else runs on this machine slows both alike.
     */
    pairedWindowMs: 40_000,
    quickPairedWindowMs: 15_000,
    pairedSeed: 4103,
    /** After a window, sent requests get this long to end before the clients hang up. */
    drainLimitMs: 60_000,
    /** Requests per model in a seeded list: more than a window can send. */
    scheduleLength: 2_000,
    seeds: [4101, 4102],
    /** Each policy runs both seeded lists; the order cancels a steady drift of the machine's speed. */
    order: [
      { policy: "priority", seedIndex: 0 },
      { policy: "fifo", seedIndex: 0 },
      { policy: "fifo", seedIndex: 1 },
      { policy: "priority", seedIndex: 1 },
    ] as const,
  },
  concurrency: {
    parallel: 4,
    maxTokens: 48,
    order: [1, 4, 4, 1] as const,
    /** Requests per stream in a block: the same total for 1 and 4 streams. */
    requestsPerStream: { 1: 4, 4: 1 } as Record<number, number>,
    /** The node-llama-cpp reference blocks, after the server's. */
    directOrder: [1, 4, 4, 1] as const,
    directRequestsPerStream: { 1: 4, 4: 1 } as Record<number, number>,
    seed: 4201,
  },
};

export type QueuePolicy = "priority" | "fifo";

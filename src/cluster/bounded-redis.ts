/**
 * A Redis call on the request path, bounded: while Redis is down ioredis would queue the command
 * until it reconnects (BullMQ needs maxRetriesPerRequest null), so admission checks the
 * connection and gives up after `timeoutMs` with 503 cluster-unavailable + Retry-After.
 */
import type { Redis } from "ioredis";
import { AppError, type TimePort, type Timer } from "../core/index.js";

export async function boundedRedisCall<T>(
  call: () => Promise<T>,
  options: { redis: Redis; time: TimePort; timeoutMs: number; what: string },
): Promise<T> {
  const unavailable = (cause?: unknown): AppError =>
    new AppError(
      "cluster-unavailable",
      `The cluster's Redis cannot be reached (${options.what}); the node keeps reconnecting. Retry shortly.`,
      { retryAfterSeconds: 2, cause },
    );
  if (options.redis.status !== "ready") throw unavailable();
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = options.time.setTimeout(() => reject(unavailable()), options.timeoutMs);
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unavailable(error);
  } finally {
    timer?.cancel();
  }
}

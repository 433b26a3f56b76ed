/**
 * The bound of a model's queue (--max-queue) checked and taken in one step in Redis, so nodes
 * admitting at the same instant cannot overshoot it (ADR 0047).
 * One Lua script counts the queue's waiting jobs (BullMQ's wait list, prioritized and delayed
 * sets) plus the places other admissions reserved and have not turned into jobs yet, and either
 * refuses or reserves a place for this job id. The origin then adds the BullMQ job and releases
 * the reservation; a reservation whose job exists no longer counts (the job does), and one whose
 * origin died before adding expires after `reservationMs` (Redis' clock, not the nodes').
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** The reservations of one model queue: a sorted set of job ids scored by expiry (Redis ms). */
export const reservationsKey = (queueName: string): string => `rawrxd:admitting:${queueName}`;

/** Longest an admission may take between its reservation and its job. */
export const reservationMs = 30_000;

// KEYS: wait list, prioritized set, delayed set, reservations. ARGV: bound, job id, ms, job key prefix.
const admitScript = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local reserved = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  if redis.call('EXISTS', ARGV[4] .. id) == 1 then
    redis.call('ZREM', KEYS[4], id)
  else
    reserved = reserved + 1
  end
end
local queued = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3]) + reserved
if queued >= tonumber(ARGV[1]) then return queued end
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[2])
if redis.call('PTTL', KEYS[4]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[3])) end
return -1
`;

interface AdmitCommand {
  rawrxdAdmit(
    wait: string,
    prioritized: string,
    delayed: string,
    reservations: string,
    bound: number,
    jobId: string,
    ttlMs: number,
    jobPrefix: string,
  ): Promise<number>;
}

export class QueueAdmission {
  readonly #redis: Redis & AdmitCommand;

  /** Defines the script on `redis` (EVALSHA, loaded on first use). */
  constructor(redis: Redis) {
    redis.defineCommand("rawrxdAdmit", { numberOfKeys: 4, lua: admitScript });
    this.#redis = redis as Redis & AdmitCommand;
  }

  /**
   * Reserves a place for `jobId` in `queue` when fewer than `bound` jobs wait or are being
   * admitted: undefined when reserved, else how many there are (the refusal's figure).
   * `ttlMs`: how long the place stays reserved without its job (default `reservationMs`).
   */
  async reserve(
    queue: Queue,
    jobId: string,
    limits: { bound: number; ttlMs?: number },
  ): Promise<number | undefined> {
    const queued = await this.#redis.rawrxdAdmit(
      queue.keys["wait"]!,
      queue.keys["prioritized"]!,
      queue.keys["delayed"]!,
      reservationsKey(queue.name),
      limits.bound,
      jobId,
      limits.ttlMs ?? reservationMs,
      queue.toKey(""),
    );
    return queued < 0 ? undefined : queued;
  }

  /** The job was added (or admission gave up): its place is the job's now, or free. */
  async release(queue: Queue, jobId: string): Promise<void> {
    await this.#redis.zrem(reservationsKey(queue.name), jobId);
  }
}

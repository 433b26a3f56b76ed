/**
 * Who is alive in the cluster (docs/decisions/0035-cluster-on-redis.md): every heartbeat a node
 * writes its advert as JSON to `rawrxd:node:<id>` with a PX time-to-live and adds its id to the
 * set `rawrxd:nodes`; a node that stops heartbeating has no key once the ttl passes, so it is out
 * within `ttlMs` without any vote. Reading drops ids whose key expired from the set.
 */
import type { Redis } from "ioredis";
import type { Logger, TimePort, Timer } from "../core/index.js";
import type { Membership, NodeAdvert } from "./contract.js";

export const nodeSetKey = "rawrxd:nodes";
export const nodeKey = (nodeId: string): string => `rawrxd:node:${nodeId}`;

export interface RedisMembershipOptions {
  redis: Redis;
  nodeId: string;
  /** Builds this node's advert now (from the local scheduler's snapshot). */
  advert: () => NodeAdvert;
  time: TimePort;
  logger: Logger;
  /** Default 1000 ms. */
  heartbeatMs?: number;
  /** Default 3000 ms: a silent node is out after this. */
  ttlMs?: number;
}

type ChangeListener = (change: { nodeId: string; kind: "joined" | "left" }) => void;

export class RedisMembership implements Membership {
  readonly nodeId: string;
  readonly #options: RedisMembershipOptions;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  readonly #listeners = new Set<ChangeListener>();
  #known = new Set<string>();
  #latest: NodeAdvert[] = [];
  #timer: Timer | undefined;
  #isFailing = false;
  #isClosed = false;

  constructor(options: RedisMembershipOptions) {
    this.nodeId = options.nodeId;
    this.#options = options;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#ttlMs = options.ttlMs ?? 3000;
  }

  async start(): Promise<void> {
    await this.#beat();
    this.#timer = this.#options.time.setInterval(() => void this.#tick(), this.#heartbeatMs).unref();
  }

  /** The adverts read on the last heartbeat (for the synchronous snapshot). */
  get latest(): readonly NodeAdvert[] {
    return this.#latest;
  }

  async nodes(): Promise<NodeAdvert[]> {
    const redis = this.#options.redis;
    const ids = (await redis.smembers(nodeSetKey)).sort();
    if (ids.length === 0) return this.#observe([]);
    const values = await redis.mget(ids.map(nodeKey));
    const adverts: NodeAdvert[] = [];
    const gone: string[] = [];
    ids.forEach((id, index) => {
      const value = values[index];
      if (value === null || value === undefined) gone.push(id);
      else adverts.push(JSON.parse(value) as NodeAdvert);
    });
    if (gone.length > 0) await redis.srem(nodeSetKey, ...gone);
    return this.#observe(adverts);
  }

  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#timer?.cancel();
    const redis = this.#options.redis;
    await Promise.all([redis.del(nodeKey(this.nodeId)), redis.srem(nodeSetKey, this.nodeId)]).catch(
      () => undefined,
    );
  }

  async #tick(): Promise<void> {
    try {
      await this.#beat();
      if (this.#isFailing) this.#options.logger.info("Cluster heartbeat resumed", { node: this.nodeId });
      this.#isFailing = false;
    } catch (error) {
      if (!this.#isFailing)
        this.#options.logger.warn("Cluster heartbeat failed; retrying every heartbeat", {
          node: this.nodeId,
          error: String(error),
        });
      this.#isFailing = true;
    }
  }

  async #beat(): Promise<void> {
    if (this.#isClosed) return;
    const redis = this.#options.redis;
    await redis
      .multi()
      .set(nodeKey(this.nodeId), JSON.stringify(this.#options.advert()), "PX", this.#ttlMs)
      .sadd(nodeSetKey, this.nodeId)
      .exec();
    await this.nodes();
  }

  #observe(adverts: NodeAdvert[]): NodeAdvert[] {
    this.#latest = adverts;
    const now = new Set(adverts.map((advert) => advert.nodeId));
    const changes: { nodeId: string; kind: "joined" | "left" }[] = [];
    for (const id of now) if (!this.#known.has(id)) changes.push({ nodeId: id, kind: "joined" });
    for (const id of this.#known) if (!now.has(id)) changes.push({ nodeId: id, kind: "left" });
    this.#known = now;
    for (const change of changes) for (const listener of this.#listeners) listener(change);
    return adverts;
  }
}

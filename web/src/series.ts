/**
 * Time series for the dashboard charts: each poll of /v1/metrics?window=1m adds one point per
 * line; the window keeps the last `capacity` points (uPlot's columnar data: x first, then lines).
 */
export interface StatWire {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface ScopeWire {
  requests: number;
  outcomes: Record<string, number>;
  stats: Record<string, StatWire | undefined>;
}

export interface MetricsWire {
  overall: ScopeWire;
  models: Record<string, ScopeWire>;
  server?: unknown;
}

export class SeriesWindow {
  readonly names: string[] = [];
  readonly #capacity: number;
  #times: number[] = [];
  #values = new Map<string, (number | null)[]>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Adds one sample at `timeSeconds`; lines not seen before start with gaps. */
  add(timeSeconds: number, sample: Record<string, number | null>): void {
    for (const name of Object.keys(sample))
      if (!this.#values.has(name)) {
        this.names.push(name);
        this.#values.set(
          name,
          this.#times.map(() => null),
        );
      }
    this.#times.push(timeSeconds);
    for (const [name, values] of this.#values) values.push(sample[name] ?? null);
    if (this.#times.length > this.#capacity) {
      this.#times = this.#times.slice(-this.#capacity);
      for (const [name, values] of this.#values) this.#values.set(name, values.slice(-this.#capacity));
    }
  }

  get length(): number {
    return this.#times.length;
  }

  /** [x, line1, line2, …] in `names` order. */
  data(): [number[], ...(number | null)[][]] {
    return [this.#times, ...this.names.map((name) => this.#values.get(name) ?? [])];
  }
}

/** Per model: `<model> p50/p95/p99` of one statistic from a metrics snapshot. */
export function percentileSample(metrics: MetricsWire, statistic: string): Record<string, number | null> {
  const sample: Record<string, number | null> = {};
  for (const [model, scope] of Object.entries(metrics.models)) {
    const stat = scope.stats[statistic];
    sample[`${model} p50`] = stat?.p50 ?? null;
    sample[`${model} p95`] = stat?.p95 ?? null;
    sample[`${model} p99`] = stat?.p99 ?? null;
  }
  return sample;
}

/** Requests in the window by outcome (stop, length, cancelled, error, rejected …). */
export function outcomeSample(metrics: MetricsWire): Record<string, number | null> {
  return { ...metrics.overall.outcomes };
}

export interface QueueWire {
  models: { model: string; priorities: Record<string, { queued: number; running: number }> }[];
}

/** Queued requests per priority, summed over models. */
export function queueSample(queue: QueueWire): Record<string, number | null> {
  const sample: Record<string, number | null> = { high: 0, normal: 0, low: 0 };
  for (const model of queue.models)
    for (const [priority, view] of Object.entries(model.priorities))
      sample[priority] = (sample[priority] ?? 0) + view.queued;
  return sample;
}

export interface PsWire {
  models: { name: string; size: number }[];
}

/** Runner memory per loaded model, in MiB. */
export function memorySample(ps: PsWire): Record<string, number | null> {
  return Object.fromEntries(ps.models.map((model) => [model.name, model.size / (1024 * 1024)]));
}

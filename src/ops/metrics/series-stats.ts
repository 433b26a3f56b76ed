/**
 * What one series (a model × priority, or any merge of them) accumulates: requests by outcome
 * and error code, token totals, and a quantile sketch per statistic. Mergeable, so windows,
 * per-model and per-priority views are merges of the leaf series, and rollups store it as JSON.
 */
import { QuantileSketch, type SketchData, type SketchSummary } from "./quantile-sketch.js";
import { metricNames, type MetricName, type MetricValues, type RequestRecord } from "./request-record.js";

export interface TokenTotals {
  prompt: number;
  completion: number;
  cached: number;
  /** Speculative decoding: tokens drafted, and drafted tokens accepted into the output. */
  drafted: number;
  accepted: number;
}

export interface SeriesSummary {
  requests: number;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
  tokens: TokenTotals;
  stats: Record<MetricName, SketchSummary>;
}

export interface SeriesData {
  requests: number;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
  tokens: TokenTotals;
  sketches: Partial<Record<MetricName, SketchData>>;
}

export class SeriesStats {
  requests = 0;
  readonly outcomes: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  readonly tokens: TokenTotals = { prompt: 0, completion: 0, cached: 0, drafted: 0, accepted: 0 };
  readonly #sketches: Partial<Record<MetricName, QuantileSketch>> = {};

  add(record: RequestRecord, values: MetricValues): void {
    this.requests += 1;
    this.outcomes[record.outcome] = (this.outcomes[record.outcome] ?? 0) + 1;
    if (record.errorCode !== undefined && record.outcome !== "stop" && record.outcome !== "length") {
      this.errors[record.errorCode] = (this.errors[record.errorCode] ?? 0) + 1;
    }
    this.tokens.prompt += record.promptTokens;
    this.tokens.completion += record.completionTokens;
    this.tokens.cached += record.cachedTokens ?? 0;
    this.tokens.drafted += record.draftedTokens ?? 0;
    this.tokens.accepted += record.acceptedTokens ?? 0;
    for (const name of metricNames) {
      const value = values[name];
      if (value !== undefined) (this.#sketches[name] ??= new QuantileSketch()).add(value);
    }
  }

  merge(other: SeriesStats): void {
    this.requests += other.requests;
    addCounts(this.outcomes, other.outcomes);
    addCounts(this.errors, other.errors);
    this.tokens.prompt += other.tokens.prompt;
    this.tokens.completion += other.tokens.completion;
    this.tokens.cached += other.tokens.cached;
    // Rollups written before speculative decoding have no drafted/accepted counts.
    this.tokens.drafted += other.tokens.drafted ?? 0;
    this.tokens.accepted += other.tokens.accepted ?? 0;
    for (const name of metricNames) {
      const sketch = other.#sketches[name];
      if (sketch !== undefined) (this.#sketches[name] ??= new QuantileSketch()).merge(sketch);
    }
  }

  sketch(metric: MetricName): QuantileSketch | undefined {
    return this.#sketches[metric];
  }

  summary(): SeriesSummary {
    const empty = new QuantileSketch().summary();
    const stats = Object.fromEntries(
      metricNames.map((name) => [name, this.#sketches[name]?.summary() ?? empty]),
    ) as Record<MetricName, SketchSummary>;
    return {
      requests: this.requests,
      outcomes: { ...this.outcomes },
      errors: { ...this.errors },
      tokens: { ...this.tokens },
      stats,
    };
  }

  toData(): SeriesData {
    const sketches: Partial<Record<MetricName, SketchData>> = {};
    for (const name of metricNames) {
      const sketch = this.#sketches[name];
      if (sketch !== undefined) sketches[name] = sketch.toData();
    }
    return {
      requests: this.requests,
      outcomes: { ...this.outcomes },
      errors: { ...this.errors },
      tokens: { ...this.tokens },
      sketches,
    };
  }

  static fromData(data: SeriesData): SeriesStats {
    const stats = new SeriesStats();
    stats.requests = data.requests;
    addCounts(stats.outcomes, data.outcomes);
    addCounts(stats.errors, data.errors);
    Object.assign(stats.tokens, data.tokens);
    for (const name of metricNames) {
      const sketch = data.sketches[name];
      if (sketch !== undefined) stats.#sketches[name] = QuantileSketch.fromData(sketch);
    }
    return stats;
  }
}

function addCounts(target: Record<string, number>, source: Readonly<Record<string, number>>): void {
  for (const [key, count] of Object.entries(source)) target[key] = (target[key] ?? 0) + count;
}

/** The stats under `key`, created empty on first use. */
export function statsAt(map: Map<string, SeriesStats>, key: string): SeriesStats {
  let stats = map.get(key);
  if (stats === undefined) {
    stats = new SeriesStats();
    map.set(key, stats);
  }
  return stats;
}

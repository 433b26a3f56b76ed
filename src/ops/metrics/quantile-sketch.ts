/**
 * A mergeable quantile sketch with a relative-error guarantee (the DDSketch bucketing,
 * Masson et al., VLDB 2019): a value v > 0 counts in bucket ⌈log_γ v⌉ with γ = (1+α)/(1−α),
 * and a bucket answers with 2γ^i/(γ+1), within α of every value it holds. So the quantile it
 * returns is within α (1%) of the exact nearest-rank quantile, however many values or merges.
 * Count, sum, min and max are exact. Values ≤ `zeroThreshold` count as 0 (durations under a
 * microsecond when values are ms).
 */

/** Relative accuracy α: every quantile is within 1% of the exact one. */
export const relativeAccuracy = 0.01;
const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
const logGamma = Math.log(gamma);
export const zeroThreshold = 1e-3;

export interface SketchSummary {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The serialised form (rollups): counts are dense from bucket `offset` on. */
export interface SketchData {
  count: number;
  sum: number;
  min: number;
  max: number;
  zero: number;
  offset: number;
  counts: number[];
}

export class QuantileSketch {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  #zeroCount = 0;
  /** Bucket index of counts[0]. */
  #offset = 0;
  #counts: number[] = [];

  /** Ignores NaN, infinities and negative values: they are not measurements. */
  add(value: number): void {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value <= zeroThreshold) {
      this.#zeroCount += 1;
      return;
    }
    this.#addToBucket(Math.ceil(Math.log(value) / logGamma), 1);
  }

  merge(other: QuantileSketch): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.#zeroCount += other.#zeroCount;
    other.#counts.forEach((bucketCount, position) => {
      if (bucketCount > 0) this.#addToBucket(other.#offset + position, bucketCount);
    });
  }

  /** Nearest-rank quantile, q in [0, 1]; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank <= this.#zeroCount) return Math.max(0, this.min);
    let seen = this.#zeroCount;
    for (let position = 0; position < this.#counts.length; position++) {
      seen += this.#counts[position]!;
      if (seen >= rank) {
        const estimate = (2 * Math.pow(gamma, this.#offset + position)) / (gamma + 1);
        return Math.min(this.max, Math.max(this.min, estimate));
      }
    }
    return this.max;
  }

  summary(): SketchSummary {
    if (this.count === 0)
      return { count: 0, min: null, max: null, mean: null, p50: null, p95: null, p99: null };
    return {
      count: this.count,
      min: this.min,
      max: this.max,
      mean: this.sum / this.count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
    };
  }

  toData(): SketchData {
    return {
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      zero: this.#zeroCount,
      offset: this.#offset,
      counts: [...this.#counts],
    };
  }

  static fromData(data: SketchData): QuantileSketch {
    const sketch = new QuantileSketch();
    if (data.count === 0) return sketch;
    sketch.count = data.count;
    sketch.sum = data.sum;
    sketch.min = data.min;
    sketch.max = data.max;
    sketch.#zeroCount = data.zero;
    sketch.#offset = data.offset;
    sketch.#counts = [...data.counts];
    return sketch;
  }

  #addToBucket(index: number, amount: number): void {
    const counts = this.#counts;
    if (counts.length === 0) {
      this.#offset = index;
      counts.push(amount);
      return;
    }
    if (index < this.#offset) {
      const grow = this.#offset - index;
      counts.unshift(...new Array<number>(grow).fill(0));
      this.#offset = index;
    } else if (index >= this.#offset + counts.length) {
      const grow = index - this.#offset - counts.length + 1;
      for (let step = 0; step < grow; step++) counts.push(0);
    }
    counts[index - this.#offset]! += amount;
  }
}

/** The exact nearest-rank quantile of already sorted values (tests and the request log). */
export function exactQuantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/** Small order statistics for benchmark samples. */

/** The value below which `fraction` of the sorted values lie, interpolated linearly. */
export function percentile(values: readonly number[], fraction: number): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((left, right) => left - right);
  if (finite.length === 0) return Number.NaN;
  const position = (finite.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const lowerValue = finite[lower]!;
  const upperValue = finite[upper]!;
  return lowerValue + (upperValue - lowerValue) * (position - lower);
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

export interface Summary {
  count: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((value) => Number.isFinite(value));
  return {
    count: finite.length,
    median: median(finite),
    p10: percentile(finite, 0.1),
    p90: percentile(finite, 0.9),
    min: finite.length === 0 ? Number.NaN : Math.min(...finite),
    max: finite.length === 0 ? Number.NaN : Math.max(...finite),
  };
}

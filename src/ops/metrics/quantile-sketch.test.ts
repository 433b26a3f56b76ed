import { describe, expect, it } from "vitest";
import { seededRandom as random } from "../../core/index.js";
import { exactQuantile, QuantileSketch, relativeAccuracy, type SketchData } from "./quantile-sketch.js";

const distributions: Record<string, (next: () => number) => number> = {
  uniform: (next) => next() * 5000,
  exponential: (next) => -Math.log(1 - next()) * 120,
  lognormal: (next) =>
    Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())),
  bimodal: (next) => (next() < 0.9 ? 5 + next() : 2000 + next() * 3000),
  "with zeros": (next) => (next() < 0.2 ? 0 : next() * 50),
};

function expectWithinBound(estimate: number | null, exact: number | null): void {
  expect(estimate).not.toBeNull();
  const error = Math.abs(estimate! - exact!);
  expect(error).toBeLessThanOrEqual(relativeAccuracy * Math.abs(exact!) + 1e-9);
}

describe("QuantileSketch", () => {
  for (const [name, draw] of Object.entries(distributions)) {
    it(`is within 1% of the exact quantiles on random ${name} data`, () => {
      const next = random(name.length * 7919);
      const values = Array.from({ length: 20_000 }, () => draw(next));
      const sketch = new QuantileSketch();
      for (const value of values) sketch.add(value);
      const sorted = [...values].sort((a, b) => a - b);
      const qs = [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1, ...Array.from({ length: 20 }, next)];
      for (const q of qs) expectWithinBound(sketch.quantile(q), exactQuantile(sorted, q));
      expect(sketch.count).toBe(values.length);
      expect(sketch.min).toBe(sorted[0]);
      expect(sketch.max).toBe(sorted.at(-1));
      expect(sketch.summary().mean).toBeCloseTo(
        values.reduce((sum, value) => sum + value, 0) / values.length,
        6,
      );
    });
  }

  it("keeps the bound through merges and a serialisation round trip", () => {
    const next = random(42);
    const parts = Array.from({ length: 12 }, () =>
      Array.from({ length: 1 + Math.floor(next() * 800) }, () => Math.exp(next() * 12 - 3)),
    );
    const merged = new QuantileSketch();
    for (const part of parts) {
      const sketch = new QuantileSketch();
      for (const value of part) sketch.add(value);
      merged.merge(QuantileSketch.fromData(JSON.parse(JSON.stringify(sketch.toData())) as SketchData));
    }
    const sorted = parts.flat().sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) expectWithinBound(merged.quantile(q), exactQuantile(sorted, q));
    expect(merged.count).toBe(sorted.length);
  });

  it("is empty until a valid value arrives and ignores non-measurements", () => {
    const sketch = new QuantileSketch();
    expect(sketch.summary()).toEqual({
      count: 0,
      min: null,
      max: null,
      mean: null,
      p50: null,
      p95: null,
      p99: null,
    });
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) sketch.add(bad);
    expect(sketch.count).toBe(0);
    sketch.add(7);
    expect(sketch.summary()).toMatchObject({ count: 1, min: 7, max: 7, mean: 7, p50: 7, p99: 7 });
  });
});

/** The targets as table cells: a value beside its goal, met or missed by how much. */

export interface Target {
  /** "≥" for ratios that must reach `goal`, "≤" for costs that must stay under it, "=" for exact counts. */
  direction: "≥" | "≤" | "=";
  goal: number;
  unit: "×" | "ms";
}

export function targetText(target: Target): string {
  return `${target.direction} ${target.goal}${target.unit === "×" ? "×" : " ms"}`;
}

/** "met", "missed by 0.12× (−13 %)", "n/a" where nothing was measured. */
export function verdict(value: number, target: Target): string {
  if (!Number.isFinite(value)) return "n/a";
  const met =
    target.direction === "≥"
      ? value >= target.goal
      : target.direction === "≤"
        ? value <= target.goal
        : value === target.goal;
  if (met) return "met";
  const gap = Math.abs(value - target.goal);
  const share = ((value - target.goal) / target.goal) * 100;
  const signed = `${share >= 0 ? "+" : "−"}${Math.abs(share).toFixed(0)} %`;
  return target.unit === "×"
    ? `missed by ${gap < 0.005 ? "< 0.01" : gap.toFixed(2)}× (${signed})`
    : `missed by ${gap.toFixed(3)} ms (${(value / target.goal).toFixed(1)}× the target)`;
}

/** A value in a targets table: ratios as "0.93×", costs as "0.181 ms". */
export function valueText(value: number, unit: Target["unit"]): string {
  if (!Number.isFinite(value)) return "n/a";
  return unit === "×" ? `${value.toFixed(2)}×` : `${value.toFixed(3)} ms`;
}

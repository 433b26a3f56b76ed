/**
 * Performance warnings: each rule yields checks (a measured value against a threshold, per
 * model or server-wide) on every evaluation; the tracker turns them into warnings that start
 * once and clear once. A check must breach for `forMs` before its warning starts, and must
 * be back past the threshold by a 10% margin (or have no data) for `forMs` before it clears,
 * so a value hovering at the threshold cannot flap.
 *
 *   ok ──breach──▶ pending ──held forMs──▶ firing ──recovered forMs──▶ ok (cleared)
 *        ◀─no breach──┘                       ◀──breach again (timer resets)──┘
 */
import type { WallMs } from "../../core/index.js";

/** A warning clears only once the value is this fraction past its threshold. */
export const clearMargin = 0.1;

export interface WarningCheck {
  /** Stable per rule and subject: "ttft-p95:alpha". */
  key: string;
  rule: string;
  model: string | undefined;
  /** null: no data in the window (counts as recovered). */
  value: number | null;
  threshold: number;
  direction: "above" | "below";
  /** Overrides the tracker's `forMs` for this check (0 for one-off events such as a crash). */
  holdMs?: number;
  /** Describes the breach for the log line and the API. */
  describe: (value: number | null) => string;
}

export interface PerformanceWarning {
  id: string;
  rule: string;
  model: string | undefined;
  state: "active" | "cleared";
  /** Value when it started, then the latest value while active, then the value when cleared. */
  value: number | null;
  threshold: number;
  message: string;
  startedAtMs: WallMs;
  clearedAtMs: WallMs | undefined;
}

export interface WarningTransition {
  warning: PerformanceWarning;
  state: "start" | "clear";
}

type TrackState =
  | { phase: "pending"; sinceMs: WallMs }
  | {
      phase: "firing";
      warning: PerformanceWarning;
      recoveringSinceMs: WallMs | undefined;
      holdMs: number | undefined;
    };

export class WarningTracker {
  readonly #forMs: number;
  readonly #historySize: number;
  readonly #states = new Map<string, TrackState>();
  readonly #history: PerformanceWarning[] = [];

  constructor(options: { forMs: number; historySize?: number }) {
    this.#forMs = options.forMs;
    this.#historySize = options.historySize ?? 100;
  }

  /**
   * Feeds one evaluation's checks. A key that was tracked and is missing now has no data.
   * Returns the warnings that started or cleared, in order.
   */
  evaluate(checks: readonly WarningCheck[], nowMs: WallMs): WarningTransition[] {
    const transitions: WarningTransition[] = [];
    const seen = new Set<string>();
    for (const check of checks) {
      seen.add(check.key);
      const transition = this.#step(check, nowMs);
      if (transition !== undefined) transitions.push(transition);
    }
    for (const [key, state] of [...this.#states]) {
      if (seen.has(key)) continue;
      if (state.phase === "pending") {
        this.#states.delete(key);
        continue;
      }
      const { warning, holdMs } = state;
      const transition = this.#step(
        {
          key,
          rule: warning.rule,
          model: warning.model,
          value: null,
          threshold: warning.threshold,
          direction: "above",
          holdMs,
          describe: () => warning.message,
        },
        nowMs,
      );
      if (transition !== undefined) transitions.push(transition);
    }
    return transitions;
  }

  active(): PerformanceWarning[] {
    const warnings: PerformanceWarning[] = [];
    for (const state of this.#states.values())
      if (state.phase === "firing") warnings.push({ ...state.warning });
    return warnings.sort((a, b) => a.startedAtMs - b.startedAtMs);
  }

  /** Started and cleared warnings, newest first (bounded). */
  recent(): PerformanceWarning[] {
    return this.#history.map((warning) => ({ ...warning })).reverse();
  }

  #step(check: WarningCheck, nowMs: WallMs): WarningTransition | undefined {
    const state = this.#states.get(check.key);
    const { value, threshold } = check;
    const isBreach = value !== null && (check.direction === "above" ? value > threshold : value < threshold);
    const isRecovered =
      value === null ||
      (check.direction === "above"
        ? value <= threshold * (1 - clearMargin)
        : value >= threshold * (1 + clearMargin));
    if (state === undefined || state.phase === "pending") {
      if (!isBreach) {
        this.#states.delete(check.key);
        return undefined;
      }
      const sinceMs = state?.sinceMs ?? nowMs;
      if (nowMs - sinceMs < (check.holdMs ?? this.#forMs)) {
        this.#states.set(check.key, { phase: "pending", sinceMs });
        return undefined;
      }
      const warning: PerformanceWarning = {
        id: check.key,
        rule: check.rule,
        model: check.model,
        state: "active",
        value,
        threshold,
        message: check.describe(value),
        startedAtMs: nowMs,
        clearedAtMs: undefined,
      };
      this.#states.set(check.key, {
        phase: "firing",
        warning,
        recoveringSinceMs: undefined,
        holdMs: check.holdMs,
      });
      this.#remember(warning);
      return { warning: { ...warning }, state: "start" };
    }
    if (!isRecovered) {
      state.recoveringSinceMs = undefined;
      state.warning.value = value;
      return undefined;
    }
    state.recoveringSinceMs ??= nowMs;
    if (nowMs - state.recoveringSinceMs < (check.holdMs ?? this.#forMs)) return undefined;
    this.#states.delete(check.key);
    const cleared: PerformanceWarning = { ...state.warning, state: "cleared", value, clearedAtMs: nowMs };
    this.#remember(cleared);
    return { warning: cleared, state: "clear" };
  }

  #remember(warning: PerformanceWarning): void {
    this.#history.push({ ...warning });
    if (this.#history.length > this.#historySize) this.#history.shift();
  }
}

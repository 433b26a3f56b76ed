/**
 * Which of a generation's events leave the runner at once instead of waiting for the coalescing
 * window (ADR 0019, ADR 0039, ADR 0043).
 */
import type { GenerateEvent } from "../../core/index.js";

export class SendUrgency {
  readonly #creditGrant: number;
  #texts = 0;
  /** Texts of this generation queued since its events last went out. */
  #waiting = 0;

  /** `creditGrant`: the credits the main process grants back at a time. */
  constructor(creditGrant: number) {
    this.#creditGrant = creditGrant;
  }

  /**
   * At once: the first text (time to first token is never traded for fewer messages); the text
   * that makes `creditGrant` texts wait unsent (held back longer, credit could not return in time
   * and decoding would stall: a fast model's texts go in groups of `creditGrant`, 32); the text that spends the last
   * credits (the run waits for credit next); the end or a preemption (nothing of this generation
   * could follow to share its message). Until ADR 0043 every `creditGrant`th text went at once
   * however many waited, which restarted the window early: at a 134M model's ~8 ms a token,
   * three messages per 16 tokens instead of the window's ~2.6. `creditsLeft` is read after the
   * event's credit was spent.
   */
  isUrgent(event: GenerateEvent, creditsLeft: number): boolean {
    if (event.type !== "text-delta") return event.type === "end" || event.type === "preempted";
    this.#texts += 1;
    this.#waiting += 1;
    return this.#texts === 1 || this.#waiting >= this.#creditGrant || creditsLeft <= 1;
  }

  /** This generation's queued events went out (the coalescer sent a message holding them). */
  markSent(): void {
    this.#waiting = 0;
  }
}

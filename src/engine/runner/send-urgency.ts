/**
 * Which of a generation's events leave the runner at once instead of waiting for the coalescing
 * window (ADR 0019, ADR 0039).
 */
import type { GenerateEvent } from "../../core/index.js";

export class SendUrgency {
  readonly #creditGrant: number;
  #texts = 0;

  /** `creditGrant`: the credits the main process grants back at a time. */
  constructor(creditGrant: number) {
    this.#creditGrant = creditGrant;
  }

  /**
   * At once: the first text (time to first token is never traded for fewer messages); every
   * `creditGrant`th text (held back longer, credit could not return in time and decoding would
   * stall); the text that spends the last credits (the run waits for credit next); the end or a
   * preemption (nothing of this generation could follow to share its message). Until ADR 0039
   * every text after half the window was spent went alone until credit came back: most
   * messages held one event. `creditsLeft` is read after the event's credit was spent.
   */
  isUrgent(event: GenerateEvent, creditsLeft: number): boolean {
    if (event.type !== "text-delta") return event.type === "end" || event.type === "preempted";
    this.#texts += 1;
    return this.#texts === 1 || this.#texts % this.#creditGrant === 0 || creditsLeft <= 1;
  }
}

/**
 * Credit-based flow control for one generation: each token event spends a credit; at zero
 * the generation waits until the main process grants more (its client is reading) or the
 * generation is cancelled.
 */
export class CreditGate {
  #credits: number;
  #wake: (() => void) | undefined;

  constructor(initialCredits: number) {
    this.#credits = initialCredits;
  }

  /** Token events that may still be sent without waiting. */
  get available(): number {
    return this.#credits;
  }

  grant(credits: number): void {
    this.#credits += credits;
    this.#wake?.();
  }

  spend(): void {
    this.#credits -= 1;
  }

  /** Resolves once a credit is available or the signal aborts. */
  async waitForCredit(signal: AbortSignal): Promise<void> {
    while (this.#credits <= 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#wake = undefined;
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }
}

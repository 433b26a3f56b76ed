/**
 * Finds stop strings in streamed text. Text that could be the start of a stop string is held
 * back until it is known not to be one, so a client never sees part of a stop string.
 */
export interface StopMatch {
  /** Text safe to send now. */
  text: string;
  /** True when a stop string was found; `text` ends just before it. */
  isStopped: boolean;
}

export class StopMatcher {
  readonly #stops: string[];
  #held = "";

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((stop) => stop.length > 0);
  }

  push(piece: string): StopMatch {
    if (this.#stops.length === 0) return { text: piece, isStopped: false };
    const buffer = this.#held + piece;
    let stopAt = -1;
    for (const stop of this.#stops) {
      const index = buffer.indexOf(stop);
      if (index !== -1 && (stopAt === -1 || index < stopAt)) stopAt = index;
    }
    if (stopAt !== -1) {
      this.#held = "";
      return { text: buffer.slice(0, stopAt), isStopped: true };
    }
    const holdLength = this.#longestStopPrefixSuffix(buffer);
    this.#held = buffer.slice(buffer.length - holdLength);
    return { text: buffer.slice(0, buffer.length - holdLength), isStopped: false };
  }

  /** Releases held text at the end of generation (it was not a stop string). */
  flush(): string {
    const held = this.#held;
    this.#held = "";
    return held;
  }

  #longestStopPrefixSuffix(buffer: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      const max = Math.min(stop.length - 1, buffer.length);
      for (let length = max; length > longest; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

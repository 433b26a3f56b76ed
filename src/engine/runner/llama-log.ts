/**
 * llama.cpp's log, as node-llama-cpp hands it to the runner, made fit for the server's log.
 * Its "bad special token" warnings come on every load of a model whose GGUF names special
 * tokens it does not have (stories260K: the separator and padding ids are 2^32 − 1): llama.cpp
 * falls back to "none" and generation does not use them, so nothing is wrong and nothing is to
 * be done. They become one debug line per load naming the tokens, instead of one warning each.
 *
 * llama.cpp logs from the loading thread; node-llama-cpp hands each line to JavaScript through a
 * thread-safe callback, which the event loop may run after the load's own completion. So the
 * report waits for those callbacks, and a line that still comes later is reported on its own.
 */
import { afterPendingCallbacks } from "../../core/index.js";
import type { RunnerLog } from "./load-plan.js";

const badSpecialToken = /^load: bad special token: '([^']+)'/;

export class LlamaLogFilter {
  readonly #log: RunnerLog;
  readonly #missingSpecialTokens: string[] = [];
  #isLoadEnded = false;

  constructor(log: RunnerLog) {
    this.#log = log;
  }

  /** The RunnerLog to give node-llama-cpp (and the load steps around it). */
  readonly log: RunnerLog = (level, message) => {
    const missing = badSpecialToken.exec(message);
    if (missing === null) this.#log(level, message);
    else {
      this.#missingSpecialTokens.push(missing[1]!);
      if (this.#isLoadEnded) this.#report();
    }
  };

  /** Call once the model is loaded: says what was collected while loading, in one line. */
  async endLoad(): Promise<void> {
    await afterPendingCallbacks();
    this.#isLoadEnded = true;
    this.#report();
  }

  #report(): void {
    if (this.#missingSpecialTokens.length === 0) return;
    this.#log(
      "debug",
      `The model file names special tokens it does not have (${this.#missingSpecialTokens.join(", ")}); llama.cpp uses none for them, which is harmless.`,
    );
    this.#missingSpecialTokens.length = 0;
  }
}

/** The real engine: node-llama-cpp in one runner process per loaded model. */
import type { Logger } from "../core/index.js";
import type { InferenceEngine, LoadSpec, ModelRunner } from "./contract.js";
import { RunnerProcess } from "./runner-process.js";

export class LlamaCppEngine implements InferenceEngine {
  readonly #logger: Logger;

  constructor(options: { logger: Logger }) {
    this.#logger = options.logger;
  }

  load(spec: LoadSpec, signal?: AbortSignal): Promise<ModelRunner> {
    return RunnerProcess.start(spec, { logger: this.#logger, ...(signal === undefined ? {} : { signal }) });
  }
}

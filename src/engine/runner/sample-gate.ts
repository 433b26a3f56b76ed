/**
 * Lets the first token sample after each decode read the batch's outputs before the others
 * start (docs/decisions/0034-one-sample-first-after-each-decode.md).
 *
 * llama.cpp puts a batch's output rows back in batch order lazily: the first read of logits
 * after a decode applies the recorded row swaps (`llama_context::output_reorder`), with no
 * lock. node-llama-cpp 3.21.1 samples each sequence of a batch in its own thread-pool task, so
 * two first reads can run at once, apply the swaps twice and hand one sequence another's
 * logits. Four greedy streams on stories260K exchanged tokens in 9 of 40 rounds here
 * (`npm run bench:sample-race`) — across users, in a server. With the gate: 0 of 40.
 *
 * The gate wraps each decode request's logit mapper (where node-llama-cpp samples): the first
 * mapper of a batch runs at once; the batch's others wait until it has settled, then run
 * together (the rows are in order by then, and reads no longer write). node-llama-cpp awaits
 * every sample of a batch before it decodes the next, so a batch's mappers never meet the
 * next batch's. It relies on `LlamaContext._decodeTokens` (internal, node-llama-cpp 3.21.1,
 * pinned; test/model/sample-gate.test.ts checks four concurrent streams against each alone).
 */
import type { LlamaContext } from "node-llama-cpp";

type LogitDataMapper = ((batchLogitIndex: number, tokenIndex: number) => unknown) & {
  /** Set by the fused decode-and-sample patch (ADR 0051) on plain-sampling mappers. */
  rawrxdFusedSample?: () => unknown;
};
type DecodeTokens = (item: unknown, logitDataMapper: LogitDataMapper) => Promise<unknown>;

const noop = (): void => undefined;

export function installSampleGate(context: LlamaContext): void {
  const internal = context as unknown as { _decodeTokens: DecodeTokens };
  if (typeof internal._decodeTokens !== "function")
    throw new Error(
      "node-llama-cpp's LlamaContext has no _decodeTokens: the pinned version changed; update src/engine/runner/sample-gate.ts.",
    );
  const decodeTokens = internal._decodeTokens.bind(context);
  /** The first sample of the batch being sampled, until it settles. */
  let leader: Promise<void> | undefined;

  const gated = (mapper: LogitDataMapper): LogitDataMapper => {
    const gatedMapper: LogitDataMapper = (batchLogitIndex, tokenIndex) => {
      if (leader !== undefined) return leader.then(() => mapper(batchLogitIndex, tokenIndex));
      const value = mapper(batchLogitIndex, tokenIndex);
      if (value instanceof Promise) {
        const settled = value.then(noop, noop);
        leader = settled;
        void settled.then(() => {
          if (leader === settled) leader = undefined;
        });
      }
      return value;
    };
    // The fused call samples one output after another in one native call: no race to gate.
    if (mapper.rawrxdFusedSample !== undefined) gatedMapper.rawrxdFusedSample = mapper.rawrxdFusedSample;
    return gatedMapper;
  };

  internal._decodeTokens = (item, logitDataMapper) => decodeTokens(item, gated(logitDataMapper));
}

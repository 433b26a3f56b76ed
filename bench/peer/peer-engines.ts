/**
 * The three things `npm run bench:peer` puts side by side, behind one shape: an HTTP server
 * streaming /v1/completions (RawrXD or llama-server, both child processes, read by the same
 * small Node client) and node-llama-cpp used directly in this process (sequence.evaluate()).
 */
import { systemTime } from "../../src/core/index.js";
import { readProcessCounters } from "../engine/process-counters.js";
import { openDirectContext } from "../lib/direct-engine.js";
import { decodeRate } from "../lib/samples.js";
import { CompletionStreamClient, type StreamedCompletion } from "../lib/sse-client.js";

export interface Generation {
  timeToFirstTokenMs: number;
  /** (tokens − 1) ÷ first → last token. */
  decodeTokensPerSecond: number;
  tokens: number;
  firstTokenAt: number;
  lastTokenAt: number;
  text: string;
  /** Speculative decoding, when the server reports it in usage; undefined otherwise. */
  draftedTokens?: number | undefined;
  acceptedTokens?: number | undefined;
}

export interface PeerEngine {
  generate(prompt: string, maxTokens: number): Promise<Generation>;
  /** CPU ms of the serving main process so far (RawrXD's server process; llama-server's whole process); NaN where not measured. */
  mainCpuMs(): Promise<number>;
  close(): Promise<void>;
}

type Usage = NonNullable<StreamedCompletion["usage"]> & {
  completion_tokens_details?: { accepted_prediction_tokens?: number; rejected_prediction_tokens?: number };
};

/** An OpenAI-compatible server on `url`; `pid` for its CPU counters; `keepAlive: false` for llama-server (see CompletionStreamClient). */
export function httpEngine(options: {
  url: string;
  model: string;
  pid: number | undefined;
  keepAlive?: boolean;
  /** llama-server with --spec-type: its timings carry draft_n only when it drafted, so none means 0. */
  draftsWhenReported?: boolean;
}): PeerEngine {
  // One client per concurrent stream: each has its own keep-alive socket.
  const clients: CompletionStreamClient[] = [];
  const idle: CompletionStreamClient[] = [];
  return {
    async generate(prompt, maxTokens) {
      const client =
        idle.pop() ??
        new CompletionStreamClient(options.url, "/v1/completions", { keepAlive: options.keepAlive });
      if (!clients.includes(client)) clients.push(client);
      try {
        const streamed = await client.stream({
          model: options.model,
          prompt,
          stream: true,
          stream_options: { include_usage: true },
          temperature: 0,
          max_tokens: maxTokens,
        });
        const usage: Usage | undefined = streamed.usage;
        const tokens = usage?.completion_tokens ?? streamed.contentChunks;
        const first = streamed.firstContentAt ?? Number.NaN;
        const last = streamed.lastContentAt ?? Number.NaN;
        // OpenAI's usage fields where a server reports them; llama-server puts its counts in `timings`.
        const details = usage?.completion_tokens_details;
        const zero = options.draftsWhenReported === true && streamed.timings !== undefined ? 0 : undefined;
        const accepted =
          details?.accepted_prediction_tokens ?? streamed.timings?.["draft_n_accepted"] ?? zero;
        const drafted = streamed.timings?.["draft_n"] ?? zero;
        const rejected = details?.rejected_prediction_tokens;
        return {
          timeToFirstTokenMs: first - streamed.sentAt,
          // Tokens that reached the client in one or two socket reads (a short, fast stream, or a
          // client that was not scheduled) carry no timing: n/a rather than an absurd rate.
          decodeTokensPerSecond: streamed.dataChunks < 3 ? Number.NaN : decodeRate(tokens, last - first),
          tokens,
          firstTokenAt: first,
          lastTokenAt: last,
          text: streamed.text,
          acceptedTokens: accepted,
          draftedTokens:
            drafted ?? (accepted === undefined || rejected === undefined ? undefined : accepted + rejected),
        };
      } finally {
        idle.push(client);
      }
    },
    async mainCpuMs() {
      return options.pid === undefined ? Number.NaN : (await readProcessCounters(options.pid)).cpuMs;
    },
    async close() {
      for (const client of clients) client.close();
    },
  };
}

/** node-llama-cpp in this process: one context of `sequences` sequences, greedy sequence.evaluate(). */
export async function directEngine(options: {
  modelPath: string;
  threads: number;
  contextSize: number;
  sequences: number;
  build: "prebuilt" | "openmp";
}): Promise<PeerEngine> {
  const { llama, context } = await openDirectContext({ ...options });
  const free = Array.from({ length: options.sequences }, () => context.getSequence());
  return {
    async generate(prompt, maxTokens) {
      const sequence = free.pop();
      if (sequence === undefined) throw new Error("More concurrent generations than sequences.");
      try {
        await sequence.clearHistory();
        const model = context.model;
        const input = [...(model.tokens.bos === null ? [] : [model.tokens.bos]), ...model.tokenize(prompt)];
        const startedAt = systemTime.monotonicNow();
        const times: number[] = [];
        const tokens = [];
        for await (const token of sequence.evaluate(input, { temperature: 0 })) {
          times.push(systemTime.monotonicNow());
          if (model.isEogToken(token)) break;
          tokens.push(token);
          if (times.length >= maxTokens) break;
        }
        const first = times[0] ?? Number.NaN;
        const last = times.at(-1) ?? Number.NaN;
        return {
          timeToFirstTokenMs: first - startedAt,
          decodeTokensPerSecond: decodeRate(times.length, last - first),
          tokens: times.length,
          firstTokenAt: first,
          lastTokenAt: last,
          text: model.detokenize(tokens),
        };
      } finally {
        free.push(sequence);
      }
    },
    async mainCpuMs() {
      return Number.NaN;
    },
    async close() {
      await llama.dispose();
    },
  };
}

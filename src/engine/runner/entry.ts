/**
 * Runner process entry: one per loaded model, forked by RunnerProcess. Speaks the typed IPC
 * protocol of ../protocol.ts. A native abort (GGML_ASSERT, OOM) ends only this process; the
 * main process sees the exit and fails this model's in-flight requests.
 */
import { systemTime, type GenerateEvent } from "../../core/index.js";
import type { MainToRunner, RunnerErrorPayload, RunnerEvent, RunnerToMain } from "../protocol.js";
import { defaultStreamCoalesceMs, initialCredits, maxEventsPerMessage } from "../protocol.js";
import { CreditGate } from "./credit-gate.js";
import { mergeTextDeltas, runnerEventKey } from "./delta-merge.js";
import { SendUrgency } from "./send-urgency.js";
import { GenerationError, runGeneration } from "./generation.js";
import { ModelHost } from "./model-host.js";
import { StreamCoalescer } from "./stream-coalescer.js";
import { answerLend, emitLending, lentSocket, releaseLend, type Lending } from "./lend-answer.js";
import { LentWindow } from "./lent-writer.js";
import { answerTokenizer } from "./tokenizer-service.js";

interface Running extends Lending {
  controller: AbortController;
  gate: CreditGate;
  urgency: SendUrgency;
  isPreempted: boolean;
}

/** Credits the main process grants back at a time (runner-process.ts). */
const creditGrant = initialCredits / 2;
let host: ModelHost | undefined;
const runs = new Map<string, Running>();
// Reused for every `events` message: the coalescer's array is serialised synchronously by send.
const eventsMessage: { type: "events"; events: readonly RunnerEvent[] } = { type: "events", events: [] };
let events = coalescerFor(defaultStreamCoalesceMs);
/** One coalescing window for all lent sockets, at the same --stream-coalesce-ms as `events`. */
let lentWindow = new LentWindow({ windowMs: defaultStreamCoalesceMs, time: systemTime });

function coalescerFor(windowMs: number): StreamCoalescer<RunnerEvent> {
  return new StreamCoalescer<RunnerEvent>({
    windowMs,
    maxItems: maxEventsPerMessage,
    time: systemTime,
    keyOf: runnerEventKey,
    merge: mergeTextDeltas,
    send: (items) => {
      for (const item of items) {
        const run = runs.get(item.id);
        if (run === undefined) continue;
        run.urgency.markSent();
        run.sent += 1;
      }
      eventsMessage.events = items;
      process.send?.(eventsMessage);
      eventsMessage.events = [];
    },
  });
}

/** Any other message: generation events queued before it go first, so nothing overtakes them. */
function send(message: RunnerToMain): void {
  events.flush();
  process.send?.(message);
}

function log(level: "debug" | "info" | "warn" | "error", message: string): void {
  send({ type: "log", level, message });
}

function toPayload(error: unknown): RunnerErrorPayload {
  if (error instanceof GenerationError) return { code: error.code, message: error.message };
  if (error instanceof Error && (error.name === "AbortError" || error.name === "DisposedError")) {
    return { code: "cancelled", message: "The generation was cancelled." };
  }
  return { code: "runner-failed", message: error instanceof Error ? error.message : String(error) };
}

async function handle(message: MainToRunner, handle: unknown): Promise<void> {
  switch (message.type) {
    case "load": {
      try {
        const windowMs = message.options.tuning?.streamCoalesceMs ?? defaultStreamCoalesceMs;
        events = coalescerFor(windowMs);
        lentWindow = new LentWindow({ windowMs, time: systemTime });
        host = await ModelHost.load(message.options, log);
        send(host.describe());
      } catch (error) {
        send({ type: "load-error", error: toPayload(error) });
      }
      return;
    }
    case "generate": {
      const running: Running = {
        controller: new AbortController(),
        gate: new CreditGate(initialCredits),
        urgency: new SendUrgency(creditGrant),
        isPreempted: false,
        sent: 0,
        lent: undefined,
        releasing: undefined,
      };
      runs.set(message.id, running);
      const id = message.id;
      // While the client's socket is lent, plain text goes there; anything else waits for the
      // lent frames to be written and then goes over IPC, as always (lend-answer.ts).
      const emit = emitLending(running, (event: GenerateEvent): void => {
        const isUrgent = running.urgency.isUrgent(event, running.gate.available);
        if (isUrgent) events.pushUrgent({ id, event });
        else events.push({ id, event });
      });
      try {
        if (host === undefined) throw new Error("The runner has no model loaded.");
        await runGeneration({
          host,
          request: message.request,
          signal: running.controller.signal,
          gate: running.gate,
          emit,
          isPreempted: () => running.isPreempted,
        });
      } catch (error) {
        if (running.isPreempted) {
          // Preempted before decoding (queued for a sequence, or in prefill): resume from where it was.
          const resume = message.request.resume ?? { generatedTokens: [], heldText: "" };
          const usage = { promptTokens: 0, completionTokens: resume.generatedTokens.length, cachedTokens: 0 };
          emit({ type: "preempted", resume, usage, timings: { loadMs: 0, promptMs: 0, decodeMs: 0 } });
        } else {
          await releaseLend(running);
          send({ type: "error", id: message.id, error: toPayload(error) });
        }
      } finally {
        // The last event may wait for a lent socket's frames: it is counted and sent first.
        await running.releasing;
        if (runs.get(message.id) === running) runs.delete(message.id);
      }
      return;
    }
    case "lend":
      answerLend({
        message,
        socket: lentSocket(handle),
        run: runs.get(message.id),
        events,
        time: systemTime,
        window: lentWindow,
        send: (answer) => process.send?.(answer),
      });
      return;
    case "credit":
      runs.get(message.id)?.gate.grant(message.credits);
      return;
    case "cancel":
      runs.get(message.id)?.controller.abort();
      return;
    case "preempt": {
      const run = runs.get(message.id);
      if (run !== undefined) {
        run.isPreempted = true;
        run.controller.abort();
      }
      return;
    }
    case "embed": {
      try {
        if (host === undefined) throw new Error("The runner has no model loaded.");
        const context = await host.embeddingContext();
        const vectors: number[][] = [];
        let promptTokens = 0;
        for (const input of message.inputs) {
          promptTokens += host.model.tokenize(input).length;
          const embedding = await context.getEmbeddingFor(input);
          vectors.push(normalize(embedding.vector));
        }
        send({ type: "embedded", id: message.id, result: { vectors, promptTokens } });
      } catch (error) {
        send({ type: "error", id: message.id, error: toPayload(error) });
      }
      return;
    }
    case "tokenize":
      send({ type: "tokenized", id: message.id, tokens: host?.model.tokenize(message.text) ?? [] });
      return;
    case "tokenizer":
      try {
        if (host === undefined) throw new Error("The runner has no model loaded.");
        send({
          type: "tokenizer-result",
          id: message.id,
          result: answerTokenizer(host.model, message.request),
        });
      } catch (error) {
        send({ type: "error", id: message.id, error: toPayload(error) });
      }
      return;
    case "ping":
      send({ type: "pong", id: message.id });
      return;
    case "dispose":
      events.dispose();
      for (const { controller } of runs.values()) controller.abort();
      await host?.dispose();
      process.exit(0);
  }
}

function normalize(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

process.on("message", (message: MainToRunner, sendHandle: unknown) => {
  void handle(message, sendHandle);
});
// Saved states of preempted generations are temp files of this process only.
process.on("exit", () => host?.kv.preempted.disposeSync());
// The main process is our only reason to exist: if it goes, so do we.
process.on("disconnect", () => process.exit(0));

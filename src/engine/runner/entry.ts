/**
 * Runner process entry: one per loaded model, forked by RunnerProcess. Speaks the typed IPC
 * protocol of ../protocol.ts. A native abort (GGML_ASSERT, OOM) ends only this process; the
 * main process sees the exit and fails this model's in-flight requests.
 */
import type { MainToRunner, RunnerErrorPayload, RunnerToMain } from "../protocol.js";
import { initialCredits } from "../protocol.js";
import { CreditGate } from "./credit-gate.js";
import { GenerationError, runGeneration } from "./generation.js";
import { ModelHost } from "./model-host.js";

interface Running {
  controller: AbortController;
  gate: CreditGate;
}

let host: ModelHost | undefined;
const running = new Map<string, Running>();

function send(message: RunnerToMain): void {
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

async function handle(message: MainToRunner): Promise<void> {
  switch (message.type) {
    case "load": {
      try {
        host = await ModelHost.load(message.options, log);
        send(host.describe());
      } catch (error) {
        send({ type: "load-error", error: toPayload(error) });
      }
      return;
    }
    case "generate": {
      const controller = new AbortController();
      const gate = new CreditGate(initialCredits);
      running.set(message.id, { controller, gate });
      try {
        if (host === undefined) throw new Error("The runner has no model loaded.");
        await runGeneration({
          host,
          request: message.request,
          signal: controller.signal,
          gate,
          emit: (event) => send({ type: "event", id: message.id, event }),
        });
      } catch (error) {
        send({ type: "error", id: message.id, error: toPayload(error) });
      } finally {
        running.delete(message.id);
      }
      return;
    }
    case "credit":
      running.get(message.id)?.gate.grant(message.credits);
      return;
    case "cancel":
      running.get(message.id)?.controller.abort();
      return;
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
    case "ping":
      send({ type: "pong", id: message.id });
      return;
    case "dispose":
      for (const { controller } of running.values()) controller.abort();
      await host?.dispose();
      process.exit(0);
  }
}

function normalize(vector: readonly number[]): number[] {
  const norm = Math.hypot(...vector);
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

process.on("message", (message: MainToRunner) => {
  void handle(message);
});
// The main process is our only reason to exist: if it goes, so do we.
process.on("disconnect", () => process.exit(0));

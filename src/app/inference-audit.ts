/**
 * What an `inference` audit record says about one request (issue #11, AU-3): who, which model,
 * the parameters, the prompt's SHA-256 (never its text, unless --audit-content, then redacted),
 * token counts and how it ended.
 */
import { hash as oneShotHash } from "node:crypto";
import type { GenerateInput, GenerateRequest, ServerEvents } from "../core/index.js";
import { canonicalJson, redactContent, type AuditEntry, type AuditOutcome } from "../ops/index.js";

/** What the API knew when the request was submitted; the request-end event knows the rest. */
export interface RequestFacts {
  parameters: Record<string, unknown>;
  /** SHA-256 (hex) of the canonical JSON of the request's native input (see ADR 0014). */
  promptSha256: string;
  /** With --audit-content: the input with every text redacted. */
  prompt?: unknown;
}

export function requestFacts(request: GenerateRequest, recordsContent: boolean): RequestFacts {
  const { sampling } = request;
  return {
    parameters: {
      maxTokens: request.maxTokens,
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: sampling.topK,
      minP: sampling.minP,
      seed: sampling.seed,
      repeatPenalty: sampling.repeatPenalty,
      repeatLastN: sampling.repeatLastN,
      frequencyPenalty: sampling.frequencyPenalty,
      presencePenalty: sampling.presencePenalty,
      contextLimitTokens: request.contextLimitTokens,
      // Stop strings and schemas can quote content: their count and presence only.
      stopCount: request.stop.length,
      json: request.json !== undefined,
      inputKind: request.input.kind,
    },
    promptSha256: promptSha256(request.input),
    ...(recordsContent ? { prompt: redactedInput(request.input) } : {}),
  };
}

/** An auditor holding the request recomputes it: SHA-256 over the canonical JSON of the native input. */
export function promptSha256(input: GenerateInput): string {
  return oneShotHash("sha256", canonicalJson(input), "hex");
}

function redactedInput(input: GenerateInput): unknown {
  switch (input.kind) {
    case "chat":
      return input.messages.map((message) => ({
        role: message.role,
        content: redactContent(message.content),
      }));
    case "instruction":
      return {
        ...(input.system === undefined ? {} : { system: redactContent(input.system) }),
        prompt: redactContent(input.prompt),
      };
    case "text":
      return { prompt: redactContent(input.prompt) };
    case "infill":
      return {
        prefix: redactContent(input.prefix),
        suffix: redactContent(input.suffix),
        ...(input.prompt === undefined ? {} : { prompt: redactContent(input.prompt) }),
        ...(input.extra === undefined
          ? {}
          : { extra: input.extra.map((chunk) => ({ ...chunk, text: redactContent(chunk.text) })) }),
      };
  }
}

/** One finished request: who, which model, parameters, token counts and how it ended. */
export function inferenceEntry(
  event: ServerEvents["request-end"],
  facts?: RequestFacts & { output?: string },
): AuditEntry {
  const outcome = inferenceOutcome(event.outcome);
  return {
    type: "inference",
    action: "generate",
    object: event.model,
    requestId: event.requestId,
    ...(event.apiKeyId === undefined ? {} : { keyId: event.apiKeyId }),
    ...(event.sourceAddress === undefined ? {} : { address: event.sourceAddress }),
    outcome,
    level: outcome === "failure" ? "error" : "info",
    details: {
      finishReason: event.outcome,
      errorCode: event.errorCode ?? null,
      priorityAsked: event.priorityAsked ?? null,
      priorityGranted: event.priority ?? null,
      promptTokens: event.promptTokens,
      cachedTokens: event.cachedTokens ?? 0,
      completionTokens: event.completionTokens,
      totalMs: event.totalMs,
      ...(facts === undefined
        ? {}
        : {
            promptSha256: facts.promptSha256,
            parameters: facts.parameters,
            ...(facts.prompt === undefined
              ? {}
              : { content: { prompt: facts.prompt, output: redactContent(facts.output ?? "") } }),
          }),
    },
  };
}

function inferenceOutcome(outcome: ServerEvents["request-end"]["outcome"]): AuditOutcome {
  switch (outcome) {
    case "cancelled":
      return "cancelled";
    case "error":
      return "failure";
    case "rejected":
      return "denied";
    case "stop":
    case "length":
    case "tool-calls":
      return "success";
  }
}

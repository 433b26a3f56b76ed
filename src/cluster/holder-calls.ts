/**
 * Embeddings and tokenizer calls in the cluster (ADR 0047): a node that does not hold the model
 * sends the call to a live node that does, over the internal route `POST /internal/cluster/calls`
 * (the cluster secret, JSON both ways), instead of loading the model itself. The holder runs it
 * on its local scheduler only (never forwards again). A holder that cannot be reached, is an
 * older node without the route, or is leaving, makes the call run here; an error of the call
 * itself (bad input, context overflow) is the client's answer.
 */
import {
  AppError,
  type EmbedResult,
  type Logger,
  type TokenizerRequest,
  type TokenizerResult,
} from "../core/index.js";
import type { EmbedRequest, OwnedScheduler, SubmitOptions } from "../scheduler/index.js";
import type { NodeAdvert } from "./contract.js";
import { clusterSecretHeader, frameError, type WireError } from "./wire.js";

export const callsPath = "/internal/cluster/calls";

/** The body of POST /internal/cluster/calls. */
export type HolderCall =
  | { kind: "embed"; request: EmbedRequest; keepAliveMs?: number | undefined }
  | { kind: "tokenizer"; model: string; request: TokenizerRequest; keepAliveMs?: number | undefined };

/** Its answer (HTTP 200): the result, or the error the call ended with on the holder. */
export type HolderAnswer = { result: EmbedResult | TokenizerResult } | { error: WireError };

/**
 * The node to send a call for `model` to: none when this node holds it (any state but unloading)
 * or no other live accepting node does; else a holder, ready ones first, then the one with most
 * free sequences, then by node id.
 */
export function holderFor(
  model: string,
  options: { nodes: readonly NodeAdvert[]; selfId: string; heldHere: boolean },
): NodeAdvert | undefined {
  if (options.heldHere) return undefined;
  const holders = options.nodes.flatMap((node) => {
    if (node.nodeId === options.selfId || !node.isAccepting) return [];
    const held = node.models.find((entry) => entry.name === model && entry.state !== "unloading");
    return held === undefined ? [] : [{ node, held }];
  });
  const free = (entry: (typeof holders)[number]): number =>
    entry.held.sequences.total - entry.held.sequences.active;
  holders.sort(
    (left, right) =>
      (left.held.state === "ready" ? 0 : 1) - (right.held.state === "ready" ? 0 : 1) ||
      free(right) - free(left) ||
      (left.node.nodeId < right.node.nodeId ? -1 : left.node.nodeId > right.node.nodeId ? 1 : 0),
  );
  return holders[0]?.node;
}

/** Codes that mean "not this holder", not "this call failed": the call runs here instead. */
const holderGoneCodes: readonly string[] = ["shutting-down", "cluster-unavailable", "unauthorized"];

/**
 * Sends `call` to `holder`; undefined when the holder could not take it (the caller runs it
 * locally), the result when it ran there; throws the call's own error.
 */
export async function callHolder(
  holder: NodeAdvert,
  call: HolderCall,
  options: { secret: string; signal: AbortSignal; logger: Logger },
): Promise<EmbedResult | TokenizerResult | undefined> {
  let answer: HolderAnswer;
  try {
    const response = await fetch(`${holder.url}${callsPath}`, {
      method: "POST",
      headers: { "content-type": "application/json", [clusterSecretHeader]: options.secret },
      body: JSON.stringify(call),
      signal: options.signal,
    });
    answer = (await response.json()) as HolderAnswer;
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    if (options.signal.aborted) throw new AppError("cancelled", "The request was cancelled.");
    options.logger.warn("Cluster holder unreachable for a call; running it on this node", {
      node: holder.nodeId,
      kind: call.kind,
      error: String(error),
    });
    return undefined;
  }
  if ("result" in answer) return answer.result;
  if (holderGoneCodes.includes(answer.error.code)) return undefined;
  throw frameError(answer);
}

export interface HolderCallsOptions {
  local: OwnedScheduler;
  secret: string;
  logger: Logger;
  /** This node's id and the live adverts; undefined while the node is not in the cluster. */
  view: () => { selfId: string; nodes: readonly NodeAdvert[] } | undefined;
}

/** The cluster scheduler's embed and tokenizer: on a holder when this node does not hold the model. */
export class HolderCalls {
  readonly #options: HolderCallsOptions;

  constructor(options: HolderCallsOptions) {
    this.#options = options;
  }

  async embed(request: EmbedRequest, options: SubmitOptions): Promise<EmbedResult> {
    const call: HolderCall = { kind: "embed", request, keepAliveMs: options.keepAliveMs };
    const remote = await this.#remote(request.model, call, options.signal);
    return (remote as EmbedResult | undefined) ?? this.#options.local.embed(request, options);
  }

  async tokenizer(
    model: string,
    request: TokenizerRequest,
    options: SubmitOptions,
  ): Promise<TokenizerResult> {
    const call: HolderCall = { kind: "tokenizer", model, request, keepAliveMs: options.keepAliveMs };
    const remote = await this.#remote(model, call, options.signal);
    return (remote as TokenizerResult | undefined) ?? this.#options.local.tokenizer(model, request, options);
  }

  /** Another node's call (the internal route), on this node's local scheduler only. */
  serve(call: HolderCall, signal: AbortSignal): Promise<EmbedResult | TokenizerResult> {
    const options = { signal, keepAliveMs: call.keepAliveMs };
    const local = this.#options.local;
    return call.kind === "embed"
      ? local.embed(call.request, options)
      : local.tokenizer(call.model, call.request, options);
  }

  async #remote(
    model: string,
    call: HolderCall,
    signal: AbortSignal,
  ): Promise<EmbedResult | TokenizerResult | undefined> {
    const { local, secret, logger } = this.#options;
    const view = this.#options.view();
    if (view === undefined) return undefined;
    const heldHere = local
      .snapshot()
      .models.some((entry) => entry.model === model && entry.state !== "unloading");
    const holder = holderFor(model, { ...view, heldHere });
    return holder === undefined ? undefined : callHolder(holder, call, { secret, signal, logger });
  }
}

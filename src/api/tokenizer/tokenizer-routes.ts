/**
 * llama-server's `POST /tokenize` (`{content, add_special, parse_special, with_pieces}` →
 * `{tokens: [ids]}` or `{tokens: [{id, piece}]}`), `POST /detokenize` (`{tokens}` → `{content}`)
 * and `POST /apply-template` (`{messages}` → `{prompt}`), answered by the model's runner. They
 * load the model when needed but take no sequence, so they never wait behind generations.
 */
import type { Context, Hono } from "hono";
import { AppError, type TokenizerRequest, type TokenizerResult } from "../../core/index.js";
import { onlyModel } from "../default-model.js";
import type { ApiDeps, ApiEnv } from "../deps.js";
import { clientSignalOf } from "../node-request.js";
import { readJson } from "../request-body.js";
import { applyTemplateSchema, detokenizeSchema, tokenizeSchema, toChatMessages } from "./schema.js";

export function mountTokenizerRoutes(app: Hono<ApiEnv>, deps: ApiDeps): void {
  app.post("/tokenize", async (context) => {
    const body = await readJson(context, tokenizeSchema, deps.config.maxBodyBytes);
    const model = body.model ?? (await onlyModel(deps, "/tokenize"));
    const result = await ask(context, deps, {
      model,
      request: {
        kind: "tokenize",
        text: body.content,
        addSpecial: body.add_special,
        parseSpecial: body.parse_special,
        withPieces: body.with_pieces,
      },
    });
    if (result.kind !== "tokenize") throw unexpected(result);
    const pieces = result.pieces;
    return context.json({
      tokens:
        pieces === undefined
          ? result.tokens
          : result.tokens.map((id, index) => ({ id, piece: pieces[index] })),
    });
  });
  app.post("/detokenize", async (context) => {
    const body = await readJson(context, detokenizeSchema, deps.config.maxBodyBytes);
    const model = body.model ?? (await onlyModel(deps, "/detokenize"));
    const result = await ask(context, deps, { model, request: { kind: "detokenize", tokens: body.tokens } });
    if (result.kind !== "detokenize") throw unexpected(result);
    return context.json({ content: result.content });
  });
  app.post("/apply-template", async (context) => {
    const body = await readJson(context, applyTemplateSchema, deps.config.maxBodyBytes);
    const model = body.model ?? (await onlyModel(deps, "/apply-template"));
    const messages = toChatMessages(body.messages);
    const result = await ask(context, deps, { model, request: { kind: "apply-template", messages } });
    if (result.kind !== "apply-template") throw unexpected(result);
    return context.json({ prompt: result.prompt });
  });
}

function ask(
  context: Context<ApiEnv>,
  deps: ApiDeps,
  job: { model: string; request: TokenizerRequest },
): Promise<TokenizerResult> {
  return deps.queue.tokenizer(job.model, job.request, { signal: clientSignalOf(context) });
}

function unexpected(result: TokenizerResult): AppError {
  return new AppError("internal", `The runner answered with a ${result.kind} result to another request.`);
}

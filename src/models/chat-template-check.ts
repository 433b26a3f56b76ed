/**
 * A chat template that loops without end would hang its runner on the first chat request
 * (node-llama-cpp renders `tokenizer.chat_template` with @huggingface/jinja in the runner's one
 * thread). Before a model is served, its template renders a short conversation in a worker
 * thread with node-llama-cpp's own JinjaTemplateChatWrapper, under a deadline and a heap limit;
 * a worker that misses the deadline or runs out of memory is terminated and the model refused.
 * Render errors are not judged here: node-llama-cpp falls back from a template it cannot use.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { AppError, type Logger, type TimePort } from "../core/index.js";
import type { GgufInfo } from "../gguf/index.js";

export interface ChatTemplateCheckOptions {
  time: TimePort;
  /** Longest the test render may take, ms (the worker's start-up is not counted). */
  renderTimeoutMs: number;
  /** Heap the render may use, MB. */
  maxHeapMb: number;
  logger: Logger;
}

export type ChatTemplateVerdict = { kind: "ok" } | { kind: "timeout" } | { kind: "out-of-memory" };

export const defaultTemplateRenderTimeoutMs = 2_000;
export const defaultTemplateHeapMb = 256;
/** Importing the wrapper in a fresh worker: not the template's time, but not unbounded either. */
const workerStartTimeoutMs = 60_000;

const workerSource = `
const { workerData, parentPort } = require("node:worker_threads");
import(workerData.wrapperUrl).then(({ JinjaTemplateChatWrapper }) => {
  parentPort.once("message", () => {
    try {
      const wrapper = new JinjaTemplateChatWrapper({ template: workerData.template });
      wrapper.generateContextState({ chatHistory: workerData.chatHistory });
    } catch {}
    parentPort.postMessage("done");
  });
  parentPort.postMessage("ready");
});
`;

const testConversation = [
  { type: "system", text: "You are a helpful assistant." },
  { type: "user", text: "Hello" },
  { type: "model", response: ["Hi! How can I help?"] },
  { type: "user", text: "Tell me a short story." },
];

function wrapperModuleUrl(): string {
  const entry = createRequire(import.meta.url).resolve("node-llama-cpp");
  return new URL("./chatWrappers/generic/JinjaTemplateChatWrapper.js", pathToFileURL(entry)).href;
}

export async function checkChatTemplate(
  template: string,
  options: ChatTemplateCheckOptions,
): Promise<ChatTemplateVerdict> {
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { wrapperUrl: wrapperModuleUrl(), template, chatHistory: testConversation },
    resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb, maxYoungGenerationSizeMb: 32 },
    stdout: true,
    stderr: true,
  });
  const { time } = options;
  try {
    return await new Promise<ChatTemplateVerdict>((resolve) => {
      let timer = time.setTimeout(() => {
        options.logger.warn("The chat template check did not start; the template is not checked.");
        resolve({ kind: "ok" });
      }, workerStartTimeoutMs);
      worker.on("message", (message: string) => {
        timer.cancel();
        if (message === "ready") {
          timer = time.setTimeout(() => resolve({ kind: "timeout" }), options.renderTimeoutMs);
          worker.postMessage("start");
        } else resolve({ kind: "ok" });
      });
      worker.once("error", (error: Error & { code?: string }) => {
        timer.cancel();
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY") return resolve({ kind: "out-of-memory" });
        options.logger.warn("The chat template check failed; the template is not checked.", {
          error: String(error),
        });
        resolve({ kind: "ok" });
      });
      worker.once("exit", () => {
        timer.cancel();
        resolve({ kind: "ok" });
      });
    });
  } finally {
    await worker.terminate();
  }
}

/** AppError "model-invalid" for a template that failed the check; undefined when it passed. */
export function chatTemplateError(
  path: string,
  verdict: ChatTemplateVerdict,
  limits: Pick<ChatTemplateCheckOptions, "renderTimeoutMs" | "maxHeapMb">,
): AppError | undefined {
  if (verdict.kind === "ok") return undefined;
  const what =
    verdict.kind === "timeout"
      ? `did not finish rendering a four-message test conversation within ${limits.renderTimeoutMs} ms: it loops or recurses without end`
      : `ran out of memory (over ${limits.maxHeapMb} MB) rendering a four-message test conversation`;
  return new AppError(
    "model-invalid",
    `Model file ${path} cannot be served: its chat template ("tokenizer.chat_template") ${what}, and would hang the model's runner. Replace the file, or fix its template.`,
  );
}

/** The check the catalog runs by default: in a worker, 2 s, 256 MB. */
export function defaultChatTemplateCheck(
  time: TimePort,
  logger: Logger,
): (template: string) => Promise<ChatTemplateVerdict> {
  return (template) =>
    checkChatTemplate(template, {
      time,
      renderTimeoutMs: defaultTemplateRenderTimeoutMs,
      maxHeapMb: defaultTemplateHeapMb,
      logger,
    });
}

/** The header when its template (if any) passes `check`; a template that hangs fails the file like a bad header. */
export async function requireServableTemplate(
  path: string,
  info: GgufInfo,
  check: false | ((template: string) => Promise<ChatTemplateVerdict>),
): Promise<GgufInfo> {
  if (info.chatTemplate === undefined || check === false) return info;
  const error = chatTemplateError(path, await check(info.chatTemplate), {
    renderTimeoutMs: defaultTemplateRenderTimeoutMs,
    maxHeapMb: defaultTemplateHeapMb,
  });
  if (error !== undefined) throw error;
  return info;
}

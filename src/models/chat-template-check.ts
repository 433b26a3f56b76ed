/**
 * A chat template that loops without end would hang its runner on the first chat request
 * (node-llama-cpp renders `tokenizer.chat_template` with @huggingface/jinja in the runner's one
 * thread). Before a model is served, its template renders a short conversation in a child
 * process with node-llama-cpp's own JinjaTemplateChatWrapper, under a deadline and a heap limit;
 * a child that misses the deadline is killed, one that runs out of memory dies alone, and the
 * model is refused. A process, not a worker thread: a worker that outgrows its heap limit in one
 * allocation (an array grown by a loop) aborts the whole process that hosts it.
 * Render errors are not judged here: node-llama-cpp falls back from a template it cannot use.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { AppError, type Logger, type TimePort } from "../core/index.js";
import type { GgufInfo } from "../gguf/index.js";

export interface ChatTemplateCheckOptions {
  time: TimePort;
  /** Longest the test render may take, ms (the child's start-up is not counted). */
  renderTimeoutMs: number;
  /** Heap the render may use, MB. */
  maxHeapMb: number;
  logger: Logger;
}

export type ChatTemplateVerdict = { kind: "ok" } | { kind: "timeout" } | { kind: "out-of-memory" };

export const defaultTemplateRenderTimeoutMs = 2_000;
export const defaultTemplateHeapMb = 256;
/** Importing the wrapper in a fresh process: not the template's time, but not unbounded either. */
const childStartTimeoutMs = 60_000;

const childSource = `
process.once("message", (job) => {
  import(job.wrapperUrl).then(({ JinjaTemplateChatWrapper }) => {
    // Render once the parent knows the deadline runs: the render may never give the loop back.
    process.send("ready", () => {
      try {
        const wrapper = new JinjaTemplateChatWrapper({ template: job.template });
        wrapper.generateContextState({ chatHistory: job.chatHistory });
      } catch {}
      process.send("done", () => process.exit(0));
    });
  });
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
  const child = spawn(process.execPath, [`--max-old-space-size=${options.maxHeapMb}`, "-e", childSource], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const { time } = options;
  try {
    return await new Promise<ChatTemplateVerdict>((resolve) => {
      let timer = time.setTimeout(() => {
        options.logger.warn("The chat template check did not start; the template is not checked.");
        resolve({ kind: "ok" });
      }, childStartTimeoutMs);
      child.on("message", (message: string) => {
        timer.cancel();
        if (message === "ready")
          timer = time.setTimeout(() => resolve({ kind: "timeout" }), options.renderTimeoutMs);
        else resolve({ kind: "ok" });
      });
      child.once("error", (error) => {
        timer.cancel();
        options.logger.warn("The chat template check failed; the template is not checked.", {
          error: String(error),
        });
        resolve({ kind: "ok" });
      });
      child.once("exit", (code, signal) => {
        timer.cancel();
        if (/heap out of memory|heap limit/i.test(stderr)) return resolve({ kind: "out-of-memory" });
        if (code !== 0)
          options.logger.warn("The chat template check ended early; the template is not checked.", {
            code,
            signal,
          });
        resolve({ kind: "ok" });
      });
      child.send({ wrapperUrl: wrapperModuleUrl(), template, chatHistory: testConversation });
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
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

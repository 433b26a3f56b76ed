/**
 * Main-process side of one runner process: forks it, loads the model, and multiplexes
 * generations over IPC. When the process dies, every in-flight request fails with a
 * runner-crashed error that names the model, the exit and the runner's last words.
 */
import { fork, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import {
  AppError,
  joinedDeltas,
  newRequestId,
  nodeFlags,
  systemTime,
  type EmbedResult,
  type ErrorCode,
  type GenerateEvent,
  type GenerateRequest,
  type Logger,
  type TextFrameTemplate,
  type TimePort,
  type TokenizerRequest,
  type TokenizerResult,
} from "../core/index.js";
import { readGgufHeader } from "../gguf/index.js";
import { memoryShapeOf, type ModelMemoryShape } from "../gpu/index.js";
import type { LoadedModelInfo, LoadSpec, ModelRunner, RunnerExit, StreamLend } from "./contract.js";
import { EventChannel } from "./event-channel.js";
import { SocketLend } from "./socket-lend.js";
import {
  initialCredits,
  type LoadedMessage,
  type MainToRunner,
  type RunnerErrorPayload,
  type RunnerToMain,
} from "./protocol.js";

const stderrTailBytes = 4096;
const isTypeScriptSource = import.meta.url.endsWith(".ts");
const entryPath = fileURLToPath(
  new URL(isTypeScriptSource ? "./runner/entry.ts" : "./runner/entry.js", import.meta.url),
);

interface PendingGeneration {
  channel: EventChannel<GenerateEvent>;
  lend: SocketLend;
}
interface PendingCall {
  resolve: (value: RunnerToMain) => void;
  reject: (error: unknown) => void;
}

const knownCodes: ReadonlySet<string> = new Set([
  "prompt-too-long",
  "bad-request",
  "cancelled",
  "tools-not-supported",
]);

/** The error a runner reported over IPC, as the AppError its request fails with. */
function runnerErrorToAppError(payload: RunnerErrorPayload, model: string): AppError {
  const code: ErrorCode = knownCodes.has(payload.code) ? (payload.code as ErrorCode) : "runner-failed";
  const message =
    code === "runner-failed" ? `The runner for model "${model}" failed: ${payload.message}` : payload.message;
  return new AppError(code, message);
}

/**
 * The runner's environment: the server's, with one libuv worker thread. node-llama-cpp runs each
 * decode and each sampling call as async work on the libuv pool; with the default four workers
 * consecutive decodes land on different threads, and ggml's CPU threads (an OpenMP team is per
 * calling thread) are set up again or left spinning beside the next ones. One worker keeps every
 * decode on the same thread: 2-thread decoding measured 17–42 % faster, 1 thread unchanged
 * (docs/decisions/0011). Decodes of one model are serialised by its context anyway.
 */
function runnerEnvironment(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...environment, UV_THREADPOOL_SIZE: "1" };
}

export class RunnerProcess implements ModelRunner {
  readonly name: string;
  #info: LoadedModelInfo | undefined;
  readonly #child: ChildProcess;
  readonly #logger: Logger;
  readonly #time: TimePort;
  readonly #generations = new Map<string, PendingGeneration>();
  readonly #calls = new Map<string, PendingCall>();
  #stderrTail = "";
  #isDisposing = false;
  #isAlive = true;
  /** `ended`: how the runner ended without its last output, what clients read. */
  readonly exited: Promise<RunnerExit & { ended: string }>;
  #onLoadMessage: ((message: RunnerToMain) => void) | undefined;

  private constructor(spec: LoadSpec, logger: Logger, time: TimePort) {
    this.name = spec.name;
    this.#logger = logger;
    this.#time = time;
    this.#child = fork(entryPath, [], {
      execArgv: [...nodeFlags, ...(isTypeScriptSource ? ["--import", "tsx"] : [])],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: runnerEnvironment(process.env),
    });
    this.#child.stdout?.on("data", (chunk: Buffer) => this.#remember(chunk));
    this.#child.stderr?.on("data", (chunk: Buffer) => this.#remember(chunk));
    this.#child.on("message", (message: RunnerToMain) => this.#onMessage(message));
    this.exited = new Promise((resolve) => {
      this.#child.once("exit", (code, signal) => {
        this.#isAlive = false;
        const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
        const tail = this.#stderrTail.trim().split("\n").slice(-3).join(" | ");
        const ended = `runner for "${this.name}" (pid ${this.#child.pid}) ended with ${how}`;
        // The runner's last output (a stack trace names the server's files) goes to the log with
        // `detail`; the requests it fails read only how it ended.
        const detail = `${ended}${tail ? `; last output: ${tail}` : ""}`;
        // What the runner sent before it died (a lend-partial, an end) is read first: the
        // channel disconnects once the pipe is drained.
        void this.#channelDrained().then(() => {
          this.#failAll(this.#isDisposing ? "cancelled" : "runner-crashed", ended);
          resolve({ expected: this.#isDisposing, detail, ended });
        });
      });
    });
  }

  static async start(
    spec: LoadSpec,
    options: {
      logger: Logger;
      signal?: AbortSignal;
      /** Runs the load timeout and the kill grace. Default `systemTime`. */
      time?: TimePort;
    },
  ): Promise<RunnerProcess> {
    // An invalid file fails here, before a runner (and llama.cpp) ever sees it.
    const shape = spec.shape ?? memoryShapeOf(await readGgufHeader(spec.path));
    const runner = new RunnerProcess(spec, options.logger, options.time ?? systemTime);
    try {
      runner.#info = await runner.#load(spec, shape, options.signal);
      return runner;
    } catch (error) {
      await runner.dispose();
      throw error;
    }
  }

  get info(): LoadedModelInfo {
    if (this.#info === undefined) throw new Error(`The runner for "${this.name}" has not loaded yet.`);
    return this.#info;
  }

  get isAlive(): boolean {
    return this.#isAlive;
  }

  /** Events received from the runner but not yet taken by consumers (bounded by the credit window). */
  get bufferedEvents(): number {
    let count = 0;
    for (const { channel } of this.#generations.values()) count += channel.bufferedCount;
    return count;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async #load(
    spec: LoadSpec,
    shape: ModelMemoryShape,
    signal: AbortSignal | undefined,
  ): Promise<LoadedModelInfo> {
    const loaded = await new Promise<LoadedMessage>((resolve, reject) => {
      const fail = (detail: string): void => {
        cleanup();
        reject(new AppError("model-load-failed", `Model "${spec.name}" failed to load: ${detail}`));
      };
      const timer = this.#time.setTimeout(
        () => fail(`no answer within ${spec.loadTimeoutMs} ms (--load-timeout)`),
        spec.loadTimeoutMs,
      );
      const onAbort = (): void => fail("the load was cancelled");
      const onExit = (): void => {
        void this.exited.then((exit) => {
          // The runner's last output stays in the log (a stack trace names the server's files).
          this.#logger.error(`Model "${spec.name}" failed to load: ${exit.detail}`);
          fail(exit.ended);
        });
      };
      const cleanup = (): void => {
        timer.cancel();
        signal?.removeEventListener("abort", onAbort);
        this.#child.off("exit", onExit);
        this.#onLoadMessage = undefined;
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#child.once("exit", onExit);
      this.#onLoadMessage = (message) => {
        if (message.type === "loaded") {
          cleanup();
          resolve(message);
        } else if (message.type === "load-error") {
          fail(message.error.message);
        }
      };
      this.#send({
        type: "load",
        options: {
          modelPath: spec.path,
          shape,
          contextTokens: spec.contextTokens,
          parallel: spec.parallel,
          threads: spec.threads,
          gpu: spec.gpu,
          tuning: spec.tuning,
        },
      });
    });
    const { type: _type, ...info } = loaded;
    return { ...info, pid: this.#child.pid };
  }

  generate(request: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateEvent> {
    const id = request.id;
    if (!this.#isAlive)
      throw new AppError("runner-crashed", `The runner for model "${this.name}" is not running.`);
    if (this.#generations.has(id))
      throw new AppError("bad-request", `Request id "${id}" is already generating.`);
    let consumed = 0;
    const cancel = (): void => {
      if (this.#generations.has(id)) this.#send({ type: "cancel", id });
    };
    const channel = new EventChannel<GenerateEvent>({
      onPull: (event) => {
        // Grant credits in batches of half the window: fewer IPC messages, never a stall. A
        // text-delta the runner joined from several (ADR 0039) spent one credit per piece.
        consumed += event.type === "text-delta" ? joinedDeltas(event) : 1;
        if (consumed >= initialCredits / 2) {
          this.#send({ type: "credit", id, credits: consumed });
          consumed = 0;
        }
      },
      onClose: cancel,
    });
    this.#generations.set(id, { channel, lend: new SocketLend() });
    if (signal.aborted) {
      this.#generations.delete(id);
      channel.fail(new AppError("cancelled", "The request was cancelled."));
      return channel;
    }
    signal.addEventListener("abort", cancel, { once: true });
    this.#send({ type: "generate", id, request });
    return channel;
  }

  lend(requestId: string, socket: Socket, template: TextFrameTemplate): Promise<StreamLend | undefined> {
    const pending = this.#generations.get(requestId);
    // Events not yet taken by the writer would be written after frames the runner writes now.
    if (pending === undefined || pending.channel.bufferedCount > 0 || !this.#isAlive)
      return Promise.resolve(undefined);
    const handle = (socket as unknown as { _handle?: object | null })._handle;
    if (handle === undefined || handle === null) return Promise.resolve(undefined);
    return pending.lend.ask(socket, (afterEvents) => {
      if (!this.#child.connected) return false;
      // The raw handle (not the net.Socket): the runner gets a descriptor no net.Socket reads
      // from, and the HTTP server does not start tracking its connections across processes.
      const message: MainToRunner = { type: "lend", id: requestId, afterEvents, template };
      this.#child.send(message, handle as Socket, { keepOpen: true }, (error) => {
        if (error) {
          this.#logger.debug(`Lending a socket to runner ${this.name} failed: ${error.message}`);
          pending.lend.answered(false);
        }
      });
      return true;
    });
  }

  preempt(requestId: string): void {
    if (this.#generations.has(requestId)) this.#send({ type: "preempt", id: requestId });
  }

  async embed(inputs: string[], signal: AbortSignal): Promise<EmbedResult> {
    const answer = await this.#call({ type: "embed", id: newRequestId("embed"), inputs }, signal);
    if (answer.type !== "embedded")
      throw new AppError("internal", `Unexpected runner answer ${answer.type} to embed.`);
    return answer.result;
  }

  async tokenizer(request: TokenizerRequest, signal: AbortSignal): Promise<TokenizerResult> {
    const answer = await this.#call({ type: "tokenizer", id: newRequestId("tokenizer"), request }, signal);
    if (answer.type !== "tokenizer-result")
      throw new AppError("internal", `Unexpected runner answer ${answer.type} to ${request.kind}.`);
    return answer.result;
  }

  #call(message: MainToRunner & { id: string }, signal: AbortSignal): Promise<RunnerToMain> {
    if (!this.#isAlive)
      return Promise.reject(
        new AppError("runner-crashed", `The runner for model "${this.name}" is not running.`),
      );
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#calls.delete(message.id);
        reject(new AppError("cancelled", "The request was cancelled."));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#calls.set(message.id, {
        resolve: (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      this.#send(message);
    });
  }

  #onMessage(message: RunnerToMain): void {
    switch (message.type) {
      case "loaded":
      case "load-error":
        this.#onLoadMessage?.(message);
        return;
      case "events":
        for (const { id, event } of message.events) this.#onEvent(id, event);
        return;
      case "lend-answer":
        this.#generations.get(message.id)?.lend.answered(message.isAccepted);
        return;
      case "lend-partial":
        this.#generations.get(message.id)?.lend.partial(message.isPartial);
        return;
      case "error": {
        const generation = this.#generations.get(message.id);
        if (generation !== undefined) {
          this.#generations.delete(message.id);
          generation.lend.ended(false);
          generation.channel.fail(runnerErrorToAppError(message.error, this.name));
        }
        const call = this.#calls.get(message.id);
        this.#calls.delete(message.id);
        call?.reject(runnerErrorToAppError(message.error, this.name));
        return;
      }
      case "embedded":
      case "tokenized":
      case "tokenizer-result":
      case "pong": {
        const call = this.#calls.get(message.id);
        this.#calls.delete(message.id);
        call?.resolve(message);
        return;
      }
      case "log":
        this.#logger[message.level === "debug" ? "debug" : message.level](
          `runner ${this.name}: ${message.message}`,
          { model: this.name },
        );
        return;
    }
  }

  #onEvent(id: string, event: GenerateEvent): void {
    const pending = this.#generations.get(id);
    if (pending === undefined) return;
    pending.lend.eventArrived();
    pending.channel.push(event);
    if (event.type === "end" || event.type === "preempted") {
      // A lend asked for now is answered "no" by the runner (the generation is over): that
      // answer would find no generation, so it is given here.
      pending.lend.ended(false);
      this.#generations.delete(id);
      pending.channel.end();
    }
  }

  /** Resolves once the IPC channel is closed (at once if it is), or after a second at most. */
  #channelDrained(): Promise<void> {
    if (!this.#child.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#time.setTimeout(done, 1000);
      function done(): void {
        timer.cancel();
        resolve();
      }
      this.#child.once("disconnect", done);
    });
  }

  #failAll(code: ErrorCode, detail: string): void {
    const error = new AppError(
      code,
      code === "cancelled"
        ? `The request was cancelled: the ${detail}.`
        : `The ${detail}. The server is still up; the next request reloads the model.`,
    );
    for (const { channel, lend } of this.#generations.values()) {
      lend.ended(true);
      channel.fail(error);
    }
    this.#generations.clear();
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
  }

  #remember(chunk: Buffer): void {
    this.#stderrTail = (this.#stderrTail + chunk.toString("utf8")).slice(-stderrTailBytes);
  }

  #send(message: MainToRunner): void {
    if (!this.#isAlive || !this.#child.connected) return;
    this.#child.send(message, (error) => {
      if (error) this.#logger.debug(`IPC send to runner ${this.name} failed: ${error.message}`);
    });
  }

  /** Asks the runner to exit, then kills it if it has not within `graceMs`. */
  async dispose(graceMs = 3000): Promise<void> {
    if (!this.#isAlive) return;
    this.#isDisposing = true;
    this.#send({ type: "dispose" });
    const timer = this.#time.setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    await this.exited;
    timer.cancel();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Writes one generation's plain text frames on the client's socket that the main process lent
 * to this runner (ADR 0056), as HTTP/1.1 chunks: one chunk per coalescing window (the first at
 * once), one frame per text piece, rendered from the route's template. The main process wrote
 * the head and everything before; it writes the end once `release()` has let the socket go.
 *
 * Flow control: a text-delta spent a credit of the generation's gate (the IPC flow control).
 * Its frames leave here, never over IPC, so the credit is granted back at once, unless the
 * socket's buffer is full: then credits are held until 'drain', and the generation stops within
 * the credits it had (a slow reader holds back decoding as it does without lending).
 */
import {
  forEachTextPiece,
  joinedDeltas,
  renderTextFrame,
  type GenerateEvent,
  type TextFrameTemplate,
  type TimePort,
} from "../../core/index.js";
import { StreamCoalescer } from "./stream-coalescer.js";

type TextDelta = Extract<GenerateEvent, { type: "text-delta" }>;

/** What the writer needs of a net.Socket (a fake one in tests). */
export interface LentSocket {
  write(data: string, callback: (error?: Error | null) => void): boolean;
  once(event: "drain", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  /** Bytes handed to write() that the kernel has not taken yet. */
  readonly writableLength: number;
  /** Closes this process's copy of the descriptor: no FIN while the main process holds it. */
  destroy(): void;
}

/**
 * One coalescing window for every lent socket of a runner: one timer, so four lent streams wake
 * the runner's JavaScript thread once a window, not four times at four offsets. The first frames
 * after a quiet window leave at once; a writer's frames that wait together are one chunk.
 * (Measured: four streams at 2 threads decoded 10 % slower with a window per writer.)
 */
export class LentWindow {
  readonly #coalescer: StreamCoalescer<WindowItem>;
  #nextKey = 0;

  constructor(options: { windowMs: number; time: TimePort }) {
    this.#coalescer = new StreamCoalescer<WindowItem>({
      windowMs: options.windowMs,
      maxItems: maxWritersPerWindow,
      time: options.time,
      keyOf: (item) => item.key,
      merge: (into, item) => {
        into.frames += item.frames;
        return true;
      },
      send: (items) => {
        for (const item of items) item.writer.writeChunk(item.frames);
      },
    });
  }

  /** A key of its own for each writer. */
  newKey(): string {
    this.#nextKey += 1;
    return String(this.#nextKey);
  }

  push(writer: LentWriter, key: string, frames: string): void {
    this.#coalescer.push({ writer, key, frames });
  }

  /** Sends what waits now, for every writer (a writer letting its socket go). */
  flush(): void {
    this.#coalescer.flush();
  }
}

interface WindowItem {
  writer: LentWriter;
  key: string;
  frames: string;
}

/** Writers whose frames share one window's flush at most, before it goes out at once. */
const maxWritersPerWindow = 64;

export interface LentWriterOptions {
  socket: LentSocket;
  template: TextFrameTemplate;
  /** Stamps Ollama's per-line time. */
  time: TimePort;
  /** The runner's one window for all its lent sockets (--stream-coalesce-ms). */
  window: LentWindow;
  /** Grants credits back to the generation's gate. */
  grant: (credits: number) => void;
  /** Writing failed (the client is gone): the generation should be cancelled. */
  onFailed: (error: Error) => void;
  /**
   * A chunk is partly in the kernel (true: the socket's buffer was full) or every chunk is whole
   * again (false). Told to the main process: if this runner dies while a chunk is partial, the
   * connection cannot take another frame; otherwise the main process writes the error event.
   */
  onPartial?: ((isPartial: boolean) => void) | undefined;
}

export class LentWriter {
  readonly #options: LentWriterOptions;
  readonly #window: LentWindow;
  readonly #key: string;
  readonly #hasTime: boolean;
  #writesInFlight = 0;
  #isBlocked = false;
  #heldCredits = 0;
  #failure: Error | undefined;
  #isReleased = false;
  #isPartial = false;
  #onFlushed: (() => void) | undefined;

  constructor(options: LentWriterOptions) {
    this.#options = options;
    this.#hasTime = options.template.slots.includes("time");
    this.#window = options.window;
    this.#key = this.#window.newKey();
    options.socket.on("error", (error) => this.#fail(error));
  }

  /** Chunks handed to the socket whose write has not completed. */
  get writesInFlight(): number {
    return this.#writesInFlight;
  }

  /** A plain text-delta (no logprobs): its frames go out with the window; its credits come back. */
  push(event: TextDelta): void {
    if (this.#isReleased) throw new Error("A released lent writer got a text-delta.");
    const { template, time } = this.#options;
    const isoTime = this.#hasTime ? new Date(time.wallNow()).toISOString() : "";
    if (this.#failure === undefined) {
      let frames = "";
      forEachTextPiece(event, (piece) => (frames += renderTextFrame(template, piece, isoTime)));
      if (frames.length > 0) this.#window.push(this, this.#key, frames);
    }
    const credits = joinedDeltas(event);
    if (this.#isBlocked) this.#heldCredits += credits;
    else this.#options.grant(credits);
  }

  /**
   * Sends what waits, then resolves once every chunk reached the kernel (or writing failed) and
   * this process's copy of the socket is closed: the main process may write again after that.
   */
  release(): Promise<void> {
    this.#isReleased = true;
    this.#window.flush();
    return new Promise<void>((resolve) => {
      const close = (): void => {
        this.#options.socket.destroy();
        // Credits held for a blocked socket: the generation's next events go over IPC again.
        this.#options.grant(this.#heldCredits);
        this.#heldCredits = 0;
        resolve();
      };
      if (this.#writesInFlight === 0 || this.#failure !== undefined) close();
      else this.#onFlushed = close;
    });
  }

  /** One HTTP chunk of frames (the window's send). */
  writeChunk(body: string): void {
    if (this.#failure !== undefined || body.length === 0) return;
    this.#writesInFlight += 1;
    const chunk = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;
    const socket = this.#options.socket;
    const isBelowMark = socket.write(chunk, (error) => {
      this.#writesInFlight -= 1;
      if (error) this.#fail(error);
      if (this.#writesInFlight === 0) {
        this.#setPartial(false);
        this.#flushed();
      }
    });
    // The kernel did not take the whole chunk at once: the rest waits in this process.
    if (socket.writableLength > 0) this.#setPartial(true);
    if (isBelowMark || this.#isBlocked) return;
    this.#isBlocked = true;
    this.#options.socket.once("drain", () => {
      this.#isBlocked = false;
      const held = this.#heldCredits;
      this.#heldCredits = 0;
      if (held > 0) this.#options.grant(held);
    });
  }

  #setPartial(isPartial: boolean): void {
    if (this.#isPartial === isPartial) return;
    this.#isPartial = isPartial;
    this.#options.onPartial?.(isPartial);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#options.onFailed(error);
    this.#flushed();
  }

  #flushed(): void {
    const onFlushed = this.#onFlushed;
    this.#onFlushed = undefined;
    onFlushed?.();
  }
}

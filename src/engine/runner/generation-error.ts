/** A generation the runner refuses: the code reaches the client as a 400 (see ../runner-process.ts). */
export class GenerationError extends Error {
  constructor(
    readonly code: "prompt-too-long" | "bad-request" | "tools-not-supported",
    message: string,
  ) {
    super(message);
  }
}

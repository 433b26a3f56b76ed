import { setFlagsFromString } from "node:v8";

/**
 * The V8 flags every RawrXD process runs with: the server (package.json's `start`, the bin's
 * shebang) and each model's runner (forked with them). ADR 0059.
 *
 * `--no-memory-reducer`: V8's memory reducer runs full mark-compacts whenever the allocation
 * rate falls, which is every stream here: with the runner writing to the client's socket, the
 * main process sits nearly idle while it decodes. Each such collection of the ~28 MB heap took
 * 40 ms of main-thread CPU plus the helpers' on the 2-vCPU VM, half the main process's CPU per
 * streamed token (0.13 → 0.06 ms). Collections under allocation pressure still run.
 */
export const nodeFlags: readonly string[] = ["--no-memory-reducer"];

/**
 * The V8 flags `rawrxd serve` sets as it starts, before the server's modules load (ADR 0061).
 * Not on the command line: client commands (`rawrxd models`, `--version`) start as before.
 *
 * `--always-sparkplug`: a function is compiled to baseline (Sparkplug) machine code on its first
 * call instead of running in the bytecode interpreter until it is called often enough. The
 * server's per-request code is broad and shallow (HTTP, validation, the scheduler, the audit
 * record), each function run once or twice a request, and a local server sees few requests a
 * second: it stayed interpreted for hundreds of requests, while TurboFan's background compiles
 * took a core from ggml's threads. Baseline code is compiled in one fast pass on the main thread;
 * TurboFan still optimizes what gets hot.
 */
export const serverV8Flags: readonly string[] = ["--always-sparkplug"];

export function applyServerV8Flags(): void {
  for (const flag of serverV8Flags) setFlagsFromString(flag);
}

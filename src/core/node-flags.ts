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

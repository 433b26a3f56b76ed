import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sampleWhileServing } from "./lag-while-serving.js";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** Records every setIdle call; `next()` resolves on the next one. */
function recordingSampler(): {
  calls: boolean[];
  next: () => Promise<boolean>;
  setIdle(isIdle: boolean): void;
} {
  const calls: boolean[] = [];
  let wake: ((isIdle: boolean) => void) | undefined;
  return {
    calls,
    next: () => new Promise((resolve) => (wake = resolve)),
    setIdle(isIdle) {
      calls.push(isIdle);
      wake?.(isIdle);
    },
  };
}

describe("sampleWhileServing", () => {
  it("is idle with no connection, busy from the first one, idle again when the last one closes", async () => {
    server = createServer((_, response) => response.end("ok"));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const sampler = recordingSampler();
    const idleAtStart = sampler.next();
    sampleWhileServing(server, sampler);
    expect(await idleAtStart).toBe(true);
    const { port } = server.address() as AddressInfo;
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1", () => resolve(socket));
      });
    const busy = sampler.next();
    const first = await open();
    expect(await busy).toBe(false);
    const second = await open();
    // Wait until the server has seen the second connection too (the second 'connection' sets nothing).
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        server!.getConnections((_, count) => (count === 2 ? resolve() : poll()));
      };
      poll();
    });
    first.destroy();
    second.destroy();
    expect(await sampler.next()).toBe(true);
    expect(sampler.calls).toEqual([true, false, true]);
  });
});

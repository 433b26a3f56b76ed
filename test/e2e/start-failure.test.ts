/**
 * A start that fails after the state database and the audit log opened (here: the port is taken)
 * closes what it opened, so the same RAWRXD_HOME starts at once afterwards: no audit writer lock
 * left held by this process, no open database.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/core/index.js";
import { FakeEngine } from "../../src/engine/index.js";
import { baseFlags, makeHome, startTestServer, type TestServer } from "./helpers.js";

describe("a failed start", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it("closes what it opened, so the same home starts right after", async () => {
    const holder: TestServer = await startTestServer();
    cleanup.push(() => holder.dispose());
    const { home, modelsDir } = makeHome(["alpha"]);
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    const configOn = (port: string): ReturnType<typeof loadConfig> =>
      loadConfig({ flags: { ...baseFlags(home, modelsDir), port }, env: {}, readConfigFile: false });
    const options = { engine: new FakeEngine({ alpha: {} }), logger: silentLogger, handleSignals: false };

    await expect(startServer(configOn(String(holder.server.port)), options)).rejects.toThrow();

    const second = await startServer(configOn("0"), options);
    cleanup.push(() => second.close());
    const health = await fetch(`${second.url}/health`);
    expect(health.status).toBe(200);
  });
});

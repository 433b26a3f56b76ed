/**
 * ADR 0060: a server without --cluster, --store or a PostgreSQL audit witness never loads bullmq,
 * ioredis or pg. Checked in a fresh Node process (a test worker may have loaded them for another
 * file): it starts the server, serves one request, and lists the packages Node has loaded.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { makeHome } from "./helpers.js";

const script = `
import { createRequire } from "node:module";
import { startServer } from "./src/app/index.ts";
import { loadConfig } from "./src/config/index.ts";
import { silentLogger } from "./src/core/index.ts";
import { FakeEngine } from "./src/engine/index.ts";
const [home, models] = process.argv.slice(-2);
const config = loadConfig({ flags: { host: "127.0.0.1", port: "0", home, models }, env: {}, readConfigFile: false });
const server = await startServer(config, { engine: new FakeEngine({ alpha: {} }), logger: silentLogger, handleSignals: false });
const response = await fetch(server.url + "/api/generate", {
  method: "POST",
  body: JSON.stringify({ model: "alpha", prompt: "hi", stream: false }),
});
await response.text();
await server.close();
const packages = Object.keys(createRequire(import.meta.url).cache)
  .map((path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(path)?.[1])
  .filter((name) => name !== undefined);
console.log(JSON.stringify({ status: response.status, packages: [...new Set(packages)] }));
`;

describe("a single node's dependencies", () => {
  it("leaves bullmq, ioredis and pg unloaded without --cluster, --store or a PostgreSQL witness", () => {
    const { home, modelsDir } = makeHome(["alpha"]);
    try {
      const output = execFileSync(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script, "--", home, modelsDir],
        { encoding: "utf8", timeout: 60_000 },
      );
      const { status, packages } = JSON.parse(output.trim().split("\n").at(-1)!) as {
        status: number;
        packages: string[];
      };
      expect(status).toBe(200);
      // Loaded by the same start-up, so the listing is not empty by accident.
      expect(packages).toContain("better-sqlite3");
      expect(packages).not.toContain("bullmq");
      expect(packages).not.toContain("ioredis");
      expect(packages).not.toContain("pg");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

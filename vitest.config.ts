import { defineConfig } from "vitest/config";

// Projects, as STYLE.md §7: unit tests beside the code, e2e through the real HTTP server with
// FakeEngine, model tests on the real engine with stories260K; the shell's state logic (web, no
// browser) and the shell in Chromium against a real server (browser: builds web/dist first).
export default defineConfig({
  test: {
    // Real runners are processes that use the machine's cores: run test files one at a time
    // in the model project is what matters; unit and e2e files are cheap either way.
    fileParallelism: false,
    projects: [
      { test: { name: "unit", include: ["src/**/*.test.ts"], testTimeout: 20_000 } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 30_000 } },
      {
        test: {
          name: "model",
          include: ["test/model/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      { test: { name: "web", include: ["web/src/**/*.test.ts"], testTimeout: 20_000 } },
      // Hardening (#15): hostile input, injected and real faults, and the operator's whole run;
      // cluster (#18): several nodes on a real redis-server and PostgreSQL.
      ...["adversarial", "faults", "integration", "cluster"].map((name) => ({
        test: {
          name,
          include: [`test/${name}/**/*.test.ts`],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      })),
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          globalSetup: ["test/browser/build-shell.testing.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

/**
 * The production integration test (#15 §4): the whole product run as an operator would, on the
 * real engine. `rawrxd serve` is a real child process on a fresh data folder holding stories260K
 * and a synthetic 134M model (slow enough on a CPU that a request stays queued or running while
 * the test looks at it). Each step is one `it`; a failed step skips the ones after it, so the
 * first failure is the one reported.
 */
import { mkdirSync, mkdtempSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { systemTime, type Priority } from "../../src/core/index.js";
import { ensureSyntheticModelAt } from "../../src/gguf/index.js";
import { parseCsv } from "../../src/ops/index.js";
import { parsePrometheusText, sampleValue } from "../e2e/metrics-text-format.js";
import { waitFor } from "../support/wait-for.js";
import {
  apiClient,
  isAlive,
  openStream,
  pollServer,
  runCliOk,
  startServe,
  startWebhook,
  type Api,
  type ServerProcess,
  type Stream,
  type StreamResult,
  type Webhook,
} from "./operator.testing.js";

const storiesPath = resolve("../shared/models/stories260K.gguf");
const now = () => systemTime.monotonicNow();

/** Server flags as an operator would pass them for this run. */
function serveFlags(home: string, modelsDir: string, webhookUrl: string): string[] {
  return [
    ...["--home", home, "--models", modelsDir, "--port", "0", "--gpu", "cpu", "--no-demo-model"],
    // One sequence per model and a small queue: requests wait where the test can see them.
    ...["--parallel", "1", "--max-queue", "8", "--threads", "1", "--context-size", "1024"],
    ...["--engine-build", "prebuilt", "--keep-alive", "30m", "--max-loaded-models", "2"],
    ...["--health-interval", "500ms", "--alert-webhook", webhookUrl],
    // Backups are taken by the operator (`rawrxd backup create`), not on a schedule.
    "--no-backup",
  ];
}

describe("production: the whole product as an operator runs it", () => {
  let root: string;
  let home: string;
  let modelsDir: string;
  let webhook: Webhook;
  let server: ServerProcess | undefined;
  let restored: ServerProcess | undefined;
  let adminKey: string;
  let userKey: string;
  let admin: Api;
  let user: Api;
  let failedStep: string | undefined;
  /** Every stream the test sent, finished, by request id. */
  const finished = new Map<string, StreamResult>();
  const backupIds: { full?: string; incremental?: string } = {};

  /** One step: skipped once an earlier one failed; a failure names the step and the server log. */
  function step(name: string, body: () => Promise<void>): void {
    it(name, async (context: TestContext) => {
      if (failedStep !== undefined) context.skip(`an earlier step failed: ${failedStep}`);
      try {
        await body();
      } catch (error) {
        failedStep = name;
        const logs = [server, restored].flatMap((running, index) =>
          running === undefined
            ? []
            : [`--- ${["first", "restored"][index]} server's log (tail) ---`, running.logTail()],
        );
        const log = logs.length === 0 ? "" : `\n${logs.join("\n")}`;
        (error as Error).message = `${name}: ${(error as Error).message}${log}`;
        throw error;
      }
    });
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "rawrxd-production-"));
    home = join(root, "home");
    modelsDir = join(home, "models");
    mkdirSync(modelsDir, { recursive: true });
    copyFileSync(storiesPath, join(modelsDir, "stories260K.gguf"));
    await ensureSyntheticModelAt("llama-134m", join(modelsDir, "slow.gguf"));
    webhook = await startWebhook();
  });

  afterAll(async () => {
    for (const running of [server, restored]) {
      if (running === undefined) continue;
      await running.stop();
      if (isAlive(running.pid)) process.kill(running.pid, "SIGKILL");
    }
    await webhook?.close();
    rmSync(root, { recursive: true, force: true });
  });

  step("1. the operator creates an admin and a user key (rawrxd keys create)", async () => {
    adminKey = (
      await runCliOk(["keys", "create", "--name", "ops", "--role", "admin", "--home", home])
    ).stdout.trim();
    userKey = (
      await runCliOk(["keys", "create", "--name", "app", "--role", "user", "--home", home])
    ).stdout.trim();
    expect(adminKey).toMatch(/^rxd_/);
    expect(userKey).toMatch(/^rxd_/);
    const listed = await runCliOk(["keys", "list", "--home", home]);
    expect(listed.stdout).toMatch(/ops\s+admin/);
    expect(listed.stdout).toMatch(/app\s+user/);
  });

  step("2. rawrxd serve starts on the fresh folder and the keys guard it", async () => {
    server = await startServe(serveFlags(home, modelsDir, webhook.url));
    admin = apiClient(server.url, adminKey);
    user = apiClient(server.url, userKey);
    const anonymous = apiClient(server.url, undefined);
    expect((await anonymous.get("/health")).status).toBe(200);
    expect((await anonymous.get("/v1/models")).status).toBe(401);
    expect((await user.get("/v1/models")).status).toBe(200);
    expect((await user.get("/v1/metrics")).status).toBe(403);
    expect((await admin.get("/v1/metrics")).status).toBe(200);
  });

  step("3. the admin loads two models; ps lists both with their runner pids", async () => {
    for (const model of ["stories260K", "slow"]) {
      const response = await admin.post(`/v1/models/${model}/load`);
      expect(response.status, `load ${model}: ${await response.clone().text()}`).toBe(200);
    }
    const ps = await admin.json<{ models: { name: string }[] }>("/api/ps");
    expect(ps.models.map((model) => model.name).sort()).toEqual(["slow", "stories260K"]);
    const cli = await runCliOk(["ps"], { RAWRXD_URL: server!.url, RAWRXD_API_KEY: adminKey });
    expect(cli.stdout).toContain("stories260K");
    expect(cli.stdout).toContain("slow");
    expect(await runnerPids()).toEqual({ slow: expect.any(Number), stories260K: expect.any(Number) });
  });

  async function runnerPids(): Promise<Record<string, number>> {
    const metrics = await admin.json<{ server: { loaded_models: { model: string; pid: number | null }[] } }>(
      "/v1/metrics?window=start",
    );
    return Object.fromEntries(metrics.server.loaded_models.map((loaded) => [loaded.model, loaded.pid!]));
  }

  interface Sent {
    model: string;
    id: string;
    priority: Priority;
    maxTokens: number;
    /** Chat (`/v1/chat/completions`, `/api/chat`) instead of a plain completion (`/v1/completions`, `/api/generate` raw). */
    isChat?: boolean;
  }

  /** A streaming request by the user key in one dialect: OpenAI (SSE) or Ollama (NDJSON). */
  function send(
    dialect: "openai" | "ollama",
    { model, id, priority, maxTokens, isChat = false }: Sent,
  ): Stream {
    const prompt = isChat
      ? { messages: [{ role: "user", content: "Tell me a story." }] }
      : { prompt: "Once upon a time" };
    return dialect === "openai"
      ? openStream(user, {
          path: isChat ? "/v1/chat/completions" : "/v1/completions",
          body: {
            model,
            ...prompt,
            max_tokens: maxTokens,
            stream: true,
            stream_options: { include_usage: true },
            seed: 1,
          },
          id,
          priority,
          dialect: "sse",
          now,
        })
      : openStream(user, {
          path: isChat ? "/api/chat" : "/api/generate",
          body: {
            model,
            ...prompt,
            ...(isChat ? {} : { raw: true }),
            stream: true,
            options: { num_predict: maxTokens, seed: 1 },
          },
          id,
          priority,
          dialect: "ndjson",
          now,
        });
  }

  step(
    "4. streams at three priorities from both dialects; the queue shows who waits; cancel queued and running",
    async () => {
      // The slow model's one sequence is taken by a long generation (high, so nothing preempts it).
      const hold = send("openai", { model: "slow", id: "prod-hold", priority: "high", maxTokens: 900 });
      await hold.firstToken;
      const queued = {
        high: send("ollama", { model: "slow", id: "prod-slow-high", priority: "high", maxTokens: 8 }),
        normal: send("openai", { model: "slow", id: "prod-slow-normal", priority: "normal", maxTokens: 8 }),
        low: send("ollama", { model: "slow", id: "prod-slow-low", priority: "low", maxTokens: 8 }),
      };
      // Meanwhile stories260K serves chats in both dialects at every priority at once.
      const fast: Stream[] = [];
      for (const priority of ["high", "normal", "low"] as const)
        for (const dialect of ["openai", "ollama"] as const)
          fast.push(
            send(dialect, {
              model: "stories260K",
              id: `prod-fast-${dialect}-${priority}`,
              priority: priority,
              maxTokens: 24,
              isChat: true,
            }),
          );

      const waiting = await pollServer(
        async () => {
          const queue = await admin.json<{ requests: QueueRow[] }>("/v1/queue");
          const rows = queue.requests.filter((row) => row.model === "slow" && row.state === "queued");
          return rows.length === 3 ? queue : undefined;
        },
        "the three slow-model requests to show as queued in GET /v1/queue",
        20_000,
      );
      const positions = Object.fromEntries(
        waiting.requests
          .filter((row) => row.model === "slow")
          .map((row) => [row.id, [row.state, row.priority, row.position]]),
      );
      expect(positions).toMatchObject({
        "prod-hold": ["running", "high", null],
        "prod-slow-high": ["queued", "high", 1],
        "prod-slow-normal": ["queued", "normal", 2],
        "prod-slow-low": ["queued", "low", 3],
      });
      // The user sees its own request's position too, and the counts per model and priority.
      const own = await (await user.get("/v1/queue/prod-slow-normal")).json();
      expect(own).toMatchObject({ id: "prod-slow-normal", state: "queued", position: 2 });
      const summary = (await (await user.get("/v1/queue")).json()) as {
        models: { model: string; priorities: unknown }[];
      };
      const slowView = summary.models.find((model) => model.model === "slow");
      expect(slowView?.priorities).toMatchObject({
        high: { queued: 1, running: 1 },
        normal: { queued: 1 },
        low: { queued: 1 },
      });

      const cancelQueued = await user.delete("/v1/requests/prod-slow-low");
      expect(await cancelQueued.json()).toEqual({ id: "prod-slow-low", cancelled: true, state: "queued" });
      const cancelRunning = await user.delete("/v1/requests/prod-hold");
      expect(await cancelRunning.json()).toEqual({ id: "prod-hold", cancelled: true, state: "running" });

      for (const stream of [hold, ...Object.values(queued), ...fast])
        finished.set(stream.id, await stream.done);
      for (const stream of [queued.high, queued.normal, ...fast])
        expect(finished.get(stream.id)!.status, `${stream.id}: ${finished.get(stream.id)!.body}`).toBe(200);
      // Once the running one was cancelled, the high request started before the normal one.
      expect(queued.high.firstTokenAt()!).toBeLessThan(queued.normal.firstTokenAt()!);
      expect(queued.low.firstTokenAt()).toBeUndefined();
      expect(finished.get("prod-hold")!.frames.length).toBeLessThan(900);
      // The queued one never started: Ollama's error body with 499; the running one's stream just ended early.
      expect(finished.get("prod-slow-low")).toMatchObject({
        status: 499,
        frames: [{ error: expect.stringMatching(/cancelled/) }],
      });
    },
  );

  interface QueueRow {
    id: string;
    model: string;
    priority: string;
    state: string;
    position: number | null;
  }

  step("5. metrics as CSV and Prometheus agree with the requests sent", async () => {
    const csv = parseCsv(await (await admin.get("/v1/metrics?window=start&format=csv")).text());
    const header = csv[0]!;
    const rows = csv.slice(1).map((cells) => ({
      model: cells[header.indexOf("model")],
      priority: cells[header.indexOf("priority")],
      statistic: cells[header.indexOf("statistic")],
      count: cells[header.indexOf("count")],
      total: cells[header.indexOf("total")],
    }));
    /** A number from the CSV: `column` of the row for model × priority × statistic ("*" = all). */
    const cell = (scope: `${string}/${string}/${string}`, column: "count" | "total") => {
      const [model, priority, statistic] = scope.split("/");
      const row = rows.find(
        (candidate) =>
          candidate.model === model && candidate.priority === priority && candidate.statistic === statistic,
      );
      return Number(row?.[column] ?? 0);
    };
    const prometheus = parsePrometheusText(await (await admin.get("/metrics")).text());
    const promRequests = (model: string, priority: string) =>
      ["stop", "length", "cancelled", "error", "rejected", "tool-calls"].reduce(
        (sum, outcome) =>
          sum + sampleValue(prometheus, "rawrxd_requests_total", { model, priority, outcome }),
        0,
      );

    // stories260K: six requests, two per priority, all completed; their tokens are the ones streamed.
    expect(cell("stories260K/*/requests", "count")).toBe(6);
    const fastTokens = [...finished.entries()]
      .filter(([id]) => id.startsWith("prod-fast-"))
      .reduce((sum, [, result]) => sum + completionTokens(result), 0);
    expect(fastTokens).toBeGreaterThan(0);
    expect(cell("stories260K/*/completion_tokens", "total")).toBe(fastTokens);
    for (const priority of ["high", "normal", "low"]) {
      expect(cell(`stories260K/${priority}/requests`, "count")).toBe(2);
      expect(promRequests("stories260K", priority)).toBe(2);
    }
    expect(
      sampleValue(prometheus, "rawrxd_generation_tokens_total", { model: "stories260K", priority: "high" }) +
        sampleValue(prometheus, "rawrxd_generation_tokens_total", {
          model: "stories260K",
          priority: "normal",
        }) +
        sampleValue(prometheus, "rawrxd_generation_tokens_total", { model: "stories260K", priority: "low" }),
    ).toBe(fastTokens);

    // slow: four requests, two cancelled (one queued, one running), two completed.
    expect(cell("slow/*/requests", "count")).toBe(4);
    expect(cell("slow/*/outcome.cancelled", "count")).toBe(2);
    expect(
      sampleValue(prometheus, "rawrxd_requests_total", {
        model: "slow",
        priority: "high",
        outcome: "cancelled",
      }),
    ).toBe(1);
    expect(
      sampleValue(prometheus, "rawrxd_requests_total", {
        model: "slow",
        priority: "low",
        outcome: "cancelled",
      }),
    ).toBe(1);
    expect(promRequests("slow", "high")).toBe(2);
    expect(promRequests("slow", "normal")).toBe(1);
    expect(cell("*/*/requests", "count")).toBe(10);
  });

  step("6. a full and an incremental backup, both verified (rawrxd backup)", async () => {
    const full = await runCliOk(["backup", "create", "--kind", "full", "--home", home]);
    const response = await user.post("/api/generate", {
      model: "stories260K",
      prompt: "Hi",
      raw: true,
      stream: false,
      options: { num_predict: 4 },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const incremental = await runCliOk(["backup", "create", "--kind", "incremental", "--home", home]);
    const list = JSON.parse((await runCliOk(["backup", "list", "--json", "--home", home])).stdout);
    const backups: { id: string; kind: string; parent: string | null }[] = list.backups ?? list;
    expect(backups.map((backup) => backup.kind)).toEqual(["full", "incremental"]);
    backupIds.full = backups[0]!.id;
    backupIds.incremental = backups[1]!.id;
    expect(backups[1]!.parent).toBe(backupIds.full);
    expect(full.stdout + full.stderr).toContain(backupIds.full);
    expect(incremental.stdout + incremental.stderr).toContain(backupIds.incremental);
    await runCliOk(["backup", "verify", "--read-data", "--home", home]);
  });

  step("7. kill -9 a runner: an incident opens and closes, and the webhook gets both alerts", async () => {
    const pid = (await runnerPids())["stories260K"]!;
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, "SIGKILL");
    const opened = await pollServer(
      async () => {
        const status = await admin.json<{
          state: string;
          openIncident: { id: number; cause: string[] } | null;
        }>("/v1/sla/status");
        return status.openIncident?.cause.some((cause) => cause.startsWith("runner:stories260K"))
          ? status.openIncident
          : undefined;
      },
      "an open incident naming runner:stories260K",
      20_000,
    );
    await pollServer(
      async () => (await admin.json<{ openIncident: unknown }>("/v1/sla/status")).openIncident === null,
      "the incident to close",
      30_000,
    );
    const incidents = await admin.json<{ incidents: { id: number; end: string | null }[] }>(
      "/v1/sla/incidents",
    );
    expect(incidents.incidents.find((incident) => incident.id === opened.id)?.end).not.toBeNull();
    const alerts = await waitFor(
      () => {
        const states = webhook.alerts
          .filter((alert) => alert.alert === `incident:${opened.id}`)
          .map((alert) => String(alert.state));
        return states.includes("firing") && states.includes("resolved") ? states : undefined;
      },
      `the webhook to receive incident:${opened.id} firing and resolved`,
      15_000,
    );
    // A retried delivery may repeat an alert; the incident's first alert fires, a later one resolves.
    expect(alerts[0]).toBe("firing");
    // The server serves the model again (the next request reloads it).
    const response = await user.post("/api/generate", {
      model: "stories260K",
      prompt: "Hi",
      raw: true,
      stream: false,
      options: { num_predict: 4 },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });

  step(
    "8. restore the incremental backup into a new folder; a second server on it: audit, database, keys",
    async () => {
      const restoredHome = join(root, "restored");
      const restore = await runCliOk([
        "backup",
        "restore",
        backupIds.incremental!,
        "--to",
        restoredHome,
        "--home",
        home,
      ]);
      expect(restore.stdout + restore.stderr).toMatch(/integrity|ok/i);
      await runCliOk([
        "audit",
        "verify",
        "--home",
        restoredHome,
        "--public-key",
        join(home, "audit-key", "ed25519.pem.pub"),
      ]);
      // Nothing answered before the backup is missing from the restored audit log, and each names its key.
      const query = await runCliOk(["audit", "query", "--type", "inference", "--home", restoredHome]);
      const records = query.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { requestId: string | null; keyId: string });
      for (const id of finished.keys())
        expect(
          records.find((record) => record.requestId === id),
          `an inference record of ${id} in the restored audit log`,
        ).toMatchObject({ keyId: userKey.split("_")[1] });
      const database = new BetterSqlite3(join(restoredHome, "rawrxd.db"), { readonly: true });
      try {
        expect(database.pragma("integrity_check", { simple: true })).toBe("ok");
      } finally {
        database.close();
      }
      // Models are not in a backup (by default); the new machine has its own models folder.
      const restoredModels = join(root, "restored-models");
      mkdirSync(restoredModels);
      copyFileSync(storiesPath, join(restoredModels, "stories260K.gguf"));
      const flags = serveFlags(restoredHome, restoredModels, webhook.url);
      // Nor is the audit private key: the server refuses to make a new one over the log's public key
      // until the operator puts back the copy they kept.
      await expect(startServe(flags)).rejects.toThrow(/private key is missing but its public key/);
      copyFileSync(join(home, "audit-key", "ed25519.pem"), join(restoredHome, "audit-key", "ed25519.pem"));
      restored = await startServe(flags);
      const restoredAdmin = apiClient(restored.url, adminKey);
      const restoredUser = apiClient(restored.url, userKey);
      const keys = await restoredAdmin.json<{ data: { name: string; role: string }[] }>("/v1/admin/keys");
      expect(keys.data.map((key) => `${key.name}:${key.role}`).sort()).toEqual(["app:user", "ops:admin"]);
      expect((await restoredUser.get("/v1/admin/keys")).status).toBe(403);
      const response = await restoredUser.post("/api/generate", {
        model: "stories260K",
        prompt: "Hi",
        raw: true,
        stream: false,
        options: { num_predict: 4 },
      });
      expect(response.status, await response.clone().text()).toBe(200);
      await response.arrayBuffer();
      const verify = await restoredAdmin.json<{ intact: boolean }>("/v1/audit/verify");
      expect(verify, JSON.stringify(verify)).toMatchObject({ intact: true });
    },
  );

  step("9. the month's SLA report shows the incident, over HTTP and from rawrxd sla report", async () => {
    interface Report {
      month: string;
      status: string;
      targetPercent: number;
      seconds: { measured: number; degraded: number };
      incidents: { id: number; end: string | null; worstState: string; cause: string[] }[];
    }
    const report = await admin.json<Report>("/v1/sla/report");
    expect(report).toMatchObject({ status: "partial", targetPercent: 99.9 });
    expect(report.seconds.measured).toBeGreaterThan(0);
    const runnerIncident = report.incidents.find((incident) =>
      incident.cause.some((cause) => cause.startsWith("runner:stories260K")),
    );
    expect(runnerIncident, JSON.stringify(report.incidents)).toMatchObject({ worstState: "degraded" });
    expect(runnerIncident!.end).not.toBeNull();
    const cli = JSON.parse(
      (await runCliOk(["sla", "report", "--month", report.month, "--home", home])).stdout,
    ) as Report;
    expect(cli.month).toBe(report.month);
    expect(cli.incidents.map((incident) => incident.id)).toContain(runnerIncident!.id);
  });
});

/** Completion tokens a finished stream reported: OpenAI's usage chunk or Ollama's eval_count. */
function completionTokens(result: StreamResult): number {
  for (const frame of [...result.frames].reverse()) {
    if (typeof frame?.usage?.completion_tokens === "number") return Number(frame.usage.completion_tokens);
    if (frame?.done === true && typeof frame.eval_count === "number") return Number(frame.eval_count);
  }
  throw new Error(`no token count in ${result.body}`);
}

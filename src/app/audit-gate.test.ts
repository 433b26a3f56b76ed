/**
 * RequestAuditGate: one ticket per submitted generation, taken by its request-end; settled()
 * waits for that record's write; fail-closed refuses and reports failed records, otherwise a
 * failed record is logged and the request goes on.
 */
import { describe, expect, it } from "vitest";
import { AppError, createLogger, type GenerateRequest, type ServerEvents } from "../core/index.js";
import type { AuditEntry, AuditHealth, AuditRecord } from "../ops/index.js";
import { RequestAuditGate, type AuditSink } from "./audit-gate.js";

class FakeSink implements AuditSink {
  health: AuditHealth = { state: "writable" };
  readonly entries: AuditEntry[] = [];
  readonly #pending: { resolve: () => void; reject: (error: Error) => void }[] = [];

  record(entry: AuditEntry): Promise<AuditRecord> {
    this.entries.push(entry);
    return new Promise((resolve, reject) =>
      this.#pending.push({ resolve: () => resolve({} as AuditRecord), reject }),
    );
  }

  settleNext(error?: Error): void {
    const next = this.#pending.shift()!;
    if (error === undefined) next.resolve();
    else next.reject(error);
  }
}

function request(id: string, prompt = "hello"): GenerateRequest {
  return {
    id,
    model: "alpha",
    input: { kind: "text", prompt },
    maxTokens: 8,
    stop: ["\n"],
    sampling: { temperature: 0.2, seed: 3 },
    reportProgress: false,
    priority: "normal",
  };
}

function ended(
  requestId: string,
  outcome: ServerEvents["request-end"]["outcome"] = "stop",
): ServerEvents["request-end"] {
  return { requestId, model: "alpha", outcome, promptTokens: 2, completionTokens: 3, totalMs: 5 };
}

function gateOf(sink: FakeSink, options: { isFailClosed?: boolean; recordsContent?: boolean } = {}) {
  const lines: string[] = [];
  const gate = new RequestAuditGate({
    log: sink,
    isFailClosed: options.isFailClosed ?? false,
    recordsContent: options.recordsContent ?? false,
    logger: createLogger("debug", (line) => lines.push(line)),
  });
  return { gate, lines };
}

describe("RequestAuditGate", () => {
  it("settles a ticket only once its record is written, and leaves no ticket behind", async () => {
    const sink = new FakeSink();
    const { gate } = gateOf(sink);
    const ticket = gate.open(request("r1"));
    await ticket.settled(); // no request-end yet: nothing to wait for
    gate.requestEnded(ended("r1"));
    expect(gate.openTickets).toBe(0);
    let isSettled = false;
    const settled = ticket.settled().then(() => (isSettled = true));
    await Promise.resolve();
    expect(isSettled).toBe(false);
    sink.settleNext();
    await settled;
    expect(sink.entries[0]!.details).toMatchObject({
      parameters: { maxTokens: 8, temperature: 0.2, seed: 3, stopCount: 1 },
      promptSha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
    });
  });

  it("gives each request with a reused id its own ticket, in order", async () => {
    const sink = new FakeSink();
    const { gate } = gateOf(sink, { recordsContent: true });
    const first = gate.open(request("same", "first prompt"));
    const second = gate.open(request("same", "second prompt"));
    first.output("one");
    second.output("two");
    gate.requestEnded(ended("same"));
    gate.requestEnded(ended("same", "cancelled"));
    expect(sink.entries.map((entry) => entry.details!["content"])).toEqual([
      { prompt: { prompt: "first prompt" }, output: "one" },
      { prompt: { prompt: "second prompt" }, output: "two" },
    ]);
    expect(gate.openTickets).toBe(0);
  });

  it("drops the ticket of a request another cluster node ran, writing nothing here", async () => {
    const sink = new FakeSink();
    const { gate } = gateOf(sink);
    const ticket = gate.open(request("remote"));
    gate.ranElsewhere("remote");
    expect(gate.openTickets).toBe(0);
    await ticket.settled();
    expect(sink.entries).toEqual([]);
  });

  it("fail-closed: refuses while the log has failed, and a failed record fails its request", async () => {
    const sink = new FakeSink();
    const { gate, lines } = gateOf(sink, { isFailClosed: true });
    const ticket = gate.open(request("r1"));
    gate.requestEnded(ended("r1"));
    sink.settleNext(new Error("ENOSPC: /var/audit full"));
    const failure = await ticket.settled().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe("audit-unavailable");
    expect((failure as AppError).message).not.toMatch(/ENOSPC|\/var/);
    expect(lines.join("\n")).toMatch(/CRITICAL.*ENOSPC/);
    sink.health = { state: "failed", reason: "ENOSPC" };
    expect(() => gate.open(request("r2"))).toThrow(/audit log cannot be written/);
    expect(gate.health()).toEqual({ state: "failed", isRefusing: true });
  });

  it("not fail-closed: a failed record is logged and the request settles", async () => {
    const sink = new FakeSink();
    const { gate, lines } = gateOf(sink);
    sink.health = { state: "failed", reason: "EIO" };
    const ticket = gate.open(request("r1"));
    gate.requestEnded(ended("r1"));
    sink.settleNext(new Error("EIO"));
    await ticket.settled();
    expect(lines.join("\n")).toMatch(/CRITICAL/);
    expect(gate.health()).toEqual({ state: "failed", isRefusing: false });
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../core/index.js";
import { busyModel, modelAdvert, nodeAdvert } from "./cluster-adverts.testing.js";
import { callHolder, callsPath, holderFor, type HolderCall } from "./holder-calls.js";
import { clusterSecretHeader } from "./wire.js";

const nodes = [
  nodeAdvert("self", { models: [modelAdvert("beta")] }),
  nodeAdvert("n3", { models: [busyModel("alpha", 0)] }),
  nodeAdvert("n2", { models: [modelAdvert("alpha", { sequences: { total: 4, active: 1 } })] }),
  nodeAdvert("n1", { models: [modelAdvert("alpha", { state: "loading" })] }),
  nodeAdvert("n0", { models: [modelAdvert("alpha")], isAccepting: false }),
  nodeAdvert("n4", { models: [modelAdvert("gamma", { state: "unloading" })] }),
];

describe("holderFor", () => {
  it("picks an accepting holder, ready before loading, most free sequences first", () => {
    expect(holderFor("alpha", { nodes, selfId: "self", heldHere: false })?.nodeId).toBe("n2");
    const loadingOnly = nodes.filter((node) => node.nodeId !== "n2" && node.nodeId !== "n3");
    expect(holderFor("alpha", { nodes: loadingOnly, selfId: "self", heldHere: false })?.nodeId).toBe("n1");
  });

  it("keeps the call here when this node holds the model or no other node does", () => {
    expect(holderFor("alpha", { nodes, selfId: "self", heldHere: true })).toBeUndefined();
    expect(holderFor("beta", { nodes, selfId: "self", heldHere: false })).toBeUndefined();
    expect(holderFor("gamma", { nodes, selfId: "self", heldHere: false })).toBeUndefined();
    expect(holderFor("delta", { nodes, selfId: "self", heldHere: false })).toBeUndefined();
  });
});

describe("callHolder", () => {
  /** Answers by the embed input: "ok", "bad", "leaving", "old" (404), as a holder would. */
  let server: Server;
  let url: string;
  const secrets: (string | undefined)[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        secrets.push(request.headers[clusterSecretHeader] as string | undefined);
        const call = JSON.parse(body) as Extract<HolderCall, { kind: "embed" }>;
        const input = call.request.inputs[0];
        const answers: Record<string, [number, unknown]> = {
          ok: [200, { result: { vectors: [[1, 0]], promptTokens: 1 } }],
          bad: [200, { error: { code: "bad-request", message: "The input is too long for the model." } }],
          leaving: [200, { error: { code: "shutting-down", message: "leaving", retryAfterSeconds: 2 } }],
          old: [404, { error: { code: "not-found", message: "No such internal cluster route." } }],
        };
        const [status, answer] = answers[input ?? ""] ?? [500, {}];
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = (input: string, holderUrl = url) =>
    callHolder(
      { ...nodeAdvert("n1"), url: holderUrl },
      { kind: "embed", request: { id: "r1", model: "alpha", inputs: [input] } },
      { secret: "s3cret", signal: new AbortController().signal, logger: silentLogger },
    );

  it("returns the holder's result, sent with the cluster secret to the calls route", async () => {
    expect(callsPath).toBe("/internal/cluster/calls");
    expect(await call("ok")).toEqual({ vectors: [[1, 0]], promptTokens: 1 });
    expect(secrets.at(-1)).toBe("s3cret");
  });

  it("throws the call's own error as the client's answer", async () => {
    await expect(call("bad")).rejects.toMatchObject({ code: "bad-request", message: /too long/ });
  });

  it("gives the call back (undefined: run here) when the holder is leaving, lacks the route or is unreachable", async () => {
    expect(await call("leaving")).toBeUndefined();
    expect(await call("old")).toBeUndefined();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await call("ok", `http://127.0.0.1:${port}`)).toBeUndefined();
  });
});

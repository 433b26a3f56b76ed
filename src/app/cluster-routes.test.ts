import { describe, expect, it } from "vitest";
import { redactorFor } from "../api/index.js";
import {
  callsPath,
  clusterSecretHeader,
  errorFrame,
  type ClusterScheduler,
  type RunFrame,
} from "../cluster/index.js";
import { AppError, createLogger } from "../core/index.js";
import { createClusterFetch, isClusterPath, secretMatches } from "./cluster-routes.js";

describe("the internal cluster route's guard", () => {
  it("accepts only the exact secret", () => {
    expect(secretMatches("s3cret", "s3cret")).toBe(true);
    expect(secretMatches("s3cret", "s3cre")).toBe(false);
    expect(secretMatches("s3cret", "s3cret ")).toBe(false);
    expect(secretMatches("s3cret", null)).toBe(false);
    // Loopback-only node without a secret (start refuses it on any other host).
    expect(secretMatches("", null)).toBe(true);
  });

  it("claims /internal/cluster/ paths only", () => {
    expect(isClusterPath("/internal/cluster/requests/x/run")).toBe(true);
    expect(isClusterPath("/v1/queue")).toBe(false);
  });
});

describe("the internal cluster routes' errors", () => {
  const modelsDir = "/srv/secret-models";
  const broken = `Model file ${modelsDir}/broken.gguf is not a valid GGUF.`;
  // Fault injection: the two scheduler methods the routes call, failing with a path in the message.
  const cluster = {
    serveCall: () => Promise.reject(new AppError("model-invalid", broken)),
    serveRun: async function* (): AsyncGenerator<RunFrame> {
      yield errorFrame(new AppError("model-invalid", broken));
    },
  } as unknown as ClusterScheduler;
  const fetch = createClusterFetch({
    cluster,
    secret: "s3cret",
    logger: createLogger("silent"),
    redact: redactorFor({ modelsDir, home: "/srv/rawrxd-home" }),
  });
  const post = (path: string, body: unknown) =>
    fetch(
      new Request(`http://127.0.0.1${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", [clusterSecretHeader]: "s3cret" },
        body: JSON.stringify(body),
      }),
    );

  it("leave this node with its folders hidden: a holder call's error", async () => {
    const answer = (await (await post(callsPath, { kind: "embed", request: {} })).json()) as {
      error: { code: string; message: string };
    };
    expect(answer.error.code).toBe("model-invalid");
    expect(answer.error.message).toContain("broken.gguf");
    expect(answer.error.message).not.toContain(modelsDir);
  });

  it("leave this node with its folders hidden: a run's error frame", async () => {
    const text = await (await post("/internal/cluster/requests/r1/run", {})).text();
    const frame = JSON.parse(text.trim()) as { error: { message: string } };
    expect(frame.error.message).toContain("broken.gguf");
    expect(frame.error.message).not.toContain(modelsDir);
  });
});

import { describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { errorFrame, frameError, jobIdOf, queueNameOf, readFrames } from "./wire.js";

describe("cluster wire names and frames", () => {
  it("makes BullMQ-safe queue names and job ids (no ':', never an integer)", () => {
    expect(queueNameOf("llama3:8b")).toBe("rawrxd-model-llama3%3A8b");
    expect(queueNameOf("org/model")).toBe("rawrxd-model-org%2Fmodel");
    expect(queueNameOf("a:b")).not.toBe(queueNameOf("a_b"));
    expect(jobIdOf("12345")).toBe("r-12345");
    expect(jobIdOf("a:b")).not.toContain(":");
  });

  it("carries an AppError's code, message and Retry-After through a frame", () => {
    const frame = errorFrame(new AppError("queue-full", "busy", { retryAfterSeconds: 2 }));
    expect(JSON.parse(JSON.stringify(frame))).toEqual({
      error: { code: "queue-full", message: "busy", retryAfterSeconds: 2 },
    });
    const error = frameError(frame);
    expect([error.code, error.message, error.retryAfterSeconds]).toEqual(["queue-full", "busy", 2]);
    expect(frameError({ error: { code: "no-such" as "internal", message: "m" } }).code).toBe("internal");
  });

  it("splits NDJSON into frames across chunk boundaries", async () => {
    const text =
      '{"event":{"type":"text-delta","text":"a","tokenCount":1}}\n{"error":{"code":"cancelled","message":"x"}}\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < bytes.length; index += 7)
          controller.enqueue(bytes.slice(index, index + 7));
        controller.close();
      },
    });
    const frames = [];
    for await (const frame of readFrames(body)) frames.push(frame);
    expect(frames).toEqual([
      { event: { type: "text-delta", text: "a", tokenCount: 1 } },
      { error: { code: "cancelled", message: "x" } },
    ]);
  });
});

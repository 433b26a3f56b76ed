import { describe, expect, it } from "vitest";
import type { AppError } from "../core/index.js";
import { FakeTime, type GenerateRequest, type StreamEvent } from "../core/index.js";
import { OriginRequest } from "./origin-request.js";

const request = { id: "r1", model: "m", priority: "normal" } as GenerateRequest;
const delta = (text: string, tokenIds?: number[]): StreamEvent => ({
  type: "text-delta",
  text,
  tokenCount: 1,
  ...(tokenIds === undefined ? {} : { tokenIds }),
});

describe("OriginRequest's resume state after losing the running node", () => {
  it("starts over when nothing was sent", () => {
    const origin = new OriginRequest(request, 2, new FakeTime());
    origin.sent({ type: "progress", processedTokens: 1, totalTokens: 1, cachedTokens: 0 });
    expect(origin.resumeState("b")).toBeUndefined();
  });

  it("continues from the token ids already sent", () => {
    const origin = new OriginRequest(request, 2, new FakeTime());
    origin.sent(delta("Once", [10]));
    origin.sent(delta(" upon a", [11, 12]));
    expect(origin.resumeState("b")).toEqual({ generatedTokens: [10, 11, 12], heldText: "" });
  });

  it("refuses with a clear error when text went out without token ids", () => {
    const origin = new OriginRequest(request, 2, new FakeTime());
    origin.sent(delta("Once"));
    const error = (() => {
      try {
        origin.resumeState("node-b");
      } catch (caught) {
        return caught as AppError;
      }
      return undefined;
    })();
    expect(error?.code).toBe("runner-crashed");
    expect(error?.message).toMatch(/node-b.*token ids/);
  });

  it("takes claims only while it waits", () => {
    const origin = new OriginRequest(request, 2, new FakeTime());
    origin.claimed({ requestId: "r1", nodeId: "b", url: "http://b" });
    expect(origin.takeClaim()?.nodeId).toBe("b");
    origin.state = "running";
    origin.claimed({ requestId: "r1", nodeId: "c", url: "http://c" });
    expect(origin.hasClaim).toBe(false);
  });
});

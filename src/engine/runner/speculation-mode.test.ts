import { describe, expect, it } from "vitest";
import { runAheadOverLookupBelowBytes, speculativeModeFor } from "./speculation.js";

const small = runAheadOverLookupBelowBytes - 1;
const large = runAheadOverLookupBelowBytes;

describe("speculativeModeFor", () => {
  it("leaves a small model to run-ahead decoding under auto when the engine runs ahead", () => {
    const choice = speculativeModeFor("auto", {
      hasDraftModel: false,
      hasRunAhead: true,
      weightBytes: small,
    });
    expect(choice.mode).toBe("off");
    expect(choice.reason).toMatch(/run-ahead decoding pays more/);
  });

  it("keeps auto for larger models, without run-ahead, and with a draft model", () => {
    expect(
      speculativeModeFor("auto", { hasDraftModel: false, hasRunAhead: true, weightBytes: large }),
    ).toEqual({
      mode: "auto",
    });
    expect(
      speculativeModeFor("auto", { hasDraftModel: false, hasRunAhead: false, weightBytes: small }).mode,
    ).toBe("auto");
    expect(
      speculativeModeFor("auto", { hasDraftModel: true, hasRunAhead: true, weightBytes: small }).mode,
    ).toBe("auto");
  });

  it("never changes an explicit input-lookup or off", () => {
    expect(
      speculativeModeFor("input-lookup", { hasDraftModel: false, hasRunAhead: true, weightBytes: small })
        .mode,
    ).toBe("input-lookup");
    expect(
      speculativeModeFor("off", { hasDraftModel: false, hasRunAhead: false, weightBytes: large }).mode,
    ).toBe("off");
  });
});

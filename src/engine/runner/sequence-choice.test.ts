import { describe, expect, it } from "vitest";
import { chooseSequence } from "./sequence-choice.js";

describe("chooseSequence", () => {
  it("takes the longest shared prefix, whatever its id", () => {
    expect(
      chooseSequence([
        { sharedTokens: 1, sequenceId: 0 },
        { sharedTokens: 40, sequenceId: 3 },
        { sharedTokens: 12, sequenceId: 1 },
      ]),
    ).toBe(1);
  });

  it("takes the lowest sequence id on a tie, in any pool order", () => {
    expect(
      chooseSequence([
        { sharedTokens: 1, sequenceId: 3 },
        { sharedTokens: 1, sequenceId: 0 },
        { sharedTokens: 1, sequenceId: 2 },
      ]),
    ).toBe(1);
    expect(chooseSequence([{ sharedTokens: 0, sequenceId: 2 }])).toBe(0);
    expect(chooseSequence([])).toBe(0);
  });
});

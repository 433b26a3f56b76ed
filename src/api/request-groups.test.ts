import { describe, expect, it } from "vitest";
import { RequestGroups } from "./request-groups.js";

describe("RequestGroups", () => {
  it("aborts the previous signal of the same group only, with a superseded reason", () => {
    const groups = new RequestGroups();
    const first = groups.enter("key\u0000a");
    const other = groups.enter("key\u0000b");
    const second = groups.enter("key\u0000a");
    expect(first.aborted).toBe(true);
    expect(String((first.reason as Error).message)).toMatch(/superseded/);
    expect(other.aborted).toBe(false);
    expect(second.aborted).toBe(false);
    expect(groups.size).toBe(2);
  });

  it("forgets the oldest groups beyond its bound", () => {
    const groups = new RequestGroups();
    const oldest = groups.enter("g0");
    for (let index = 1; index <= 5000; index++) groups.enter(`g${index}`);
    expect(groups.size).toBe(4096);
    // Forgotten, not aborted: a new request in that group starts a new entry.
    groups.enter("g0");
    expect(oldest.aborted).toBe(false);
  });
});

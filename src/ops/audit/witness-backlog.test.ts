/** checkpointBacklog: the signed checkpoints after a seq, each with the segment holding its record. */
import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFixture, writeHonestLog, type AuditFixture } from "./audit-fixture.testing.js";
import { checkpointBacklog } from "./witness-backlog.js";

let fixture: AuditFixture;
afterEach(() => fixture.cleanup());

describe("checkpointBacklog", () => {
  it("offers the checkpoints after a seq with their segments, and only those the node's key signed", async () => {
    fixture = createFixture();
    // Small segments: the 12 records spread over several files.
    await writeHonestLog(fixture, 12, { maxSegmentBytes: 1000 });
    const segments = readdirSync(fixture.directory)
      .filter((name) => name.startsWith("segment-"))
      .sort();
    expect(segments.length).toBeGreaterThan(2);
    appendFileSync(
      join(fixture.directory, "checkpoints.jsonl"),
      JSON.stringify({ seq: 13, head: "00", time: "x", node: "node-test", keyId: "x", signature: "AAAA" }) +
        "\n",
    );
    const all = await checkpointBacklog(fixture.directory, { publicKey: fixture.key.publicKey, afterSeq: 0 });
    expect(all.map((item) => item.checkpoint.seq)).toEqual([1, 6, 11, 12]);
    expect(all[0]!.segment).toBe(segments[0]);
    expect(all.at(-1)!.segment).toBe(segments.at(-1));
    const later = await checkpointBacklog(fixture.directory, {
      publicKey: fixture.key.publicKey,
      afterSeq: 6,
    });
    expect(later.map((item) => item.checkpoint.seq)).toEqual([11, 12]);
  });
});

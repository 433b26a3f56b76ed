/**
 * A stand-in for node-llama-cpp's LlamaContextSequence in the state stores' unit tests: its
 * "state file" is its tokens as JSON, padded to `bytesPerToken` per token like real KV cells.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { LlamaContextSequence, Token } from "node-llama-cpp";

export class FakeSequence {
  contextTokens: Token[];
  saves = 0;
  loads = 0;
  failSave = false;

  constructor(
    tokens: number[] = [],
    readonly bytesPerToken = 16,
  ) {
    this.contextTokens = tokens as Token[];
  }

  get nextTokenIndex(): number {
    return this.contextTokens.length;
  }

  async saveStateToFile(path: string): Promise<{ fileSize: number }> {
    if (this.failSave) throw new Error("disk full");
    this.saves += 1;
    const json = JSON.stringify(this.contextTokens);
    const text = json.padEnd(Math.max(json.length, this.contextTokens.length * this.bytesPerToken), " ");
    writeFileSync(path, text);
    return { fileSize: Buffer.byteLength(text) };
  }

  async loadStateFromFile(path: string, _risk: { acceptRisk: true }): Promise<void> {
    this.loads += 1;
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (!Array.isArray(parsed)) throw new Error("not a state file");
    this.contextTokens = parsed as Token[];
  }

  async clearHistory(): Promise<void> {
    this.contextTokens = [];
  }

  get asSequence(): LlamaContextSequence {
    return this as unknown as LlamaContextSequence;
  }
}

/** 0, 1, 2, … `count - 1` offset by `start`: distinct token runs. */
export function tokenRun(count: number, start = 0): number[] {
  return Array.from({ length: count }, (_, index) => start + index);
}

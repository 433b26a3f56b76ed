import { describe, expect, it } from "vitest";
import { LlamaLogFilter } from "./llama-log.js";

describe("LlamaLogFilter", () => {
  it("turns llama.cpp's per-token 'bad special token' warnings into one debug line per load", async () => {
    const lines: string[] = [];
    const filter = new LlamaLogFilter((level, message) => lines.push(`${level} ${message}`));
    filter.log(
      "warn",
      "load: bad special token: 'tokenizer.ggml.seperator_token_id' = 4294967295, using default id -1",
    );
    filter.log(
      "warn",
      "load: bad special token: 'tokenizer.ggml.padding_token_id' = 4294967295, using default id -1",
    );
    filter.log("warn", "something else");
    await filter.endLoad();
    await filter.endLoad();
    expect(lines).toEqual([
      "warn something else",
      "debug The model file names special tokens it does not have (tokenizer.ggml.seperator_token_id, tokenizer.ggml.padding_token_id); llama.cpp uses none for them, which is harmless.",
    ]);
  });

  it("reports a line that the event loop delivers after the load has ended, on its own", async () => {
    const lines: string[] = [];
    const filter = new LlamaLogFilter((level, message) => lines.push(`${level} ${message}`));
    await filter.endLoad();
    expect(lines).toEqual([]);
    filter.log(
      "warn",
      "load: bad special token: 'tokenizer.ggml.padding_token_id' = 4294967295, using default id -1",
    );
    expect(lines).toEqual([
      "debug The model file names special tokens it does not have (tokenizer.ggml.padding_token_id); llama.cpp uses none for them, which is harmless.",
    ]);
  });
});

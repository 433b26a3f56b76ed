import { describe, expect, it } from "vitest";
import { parseOptions, type OptionSpecs } from "./parse-options.js";

const specs: OptionSpecs = {
  "context-size": { type: "string", aliases: ["-c", "--ctx-size"] },
  "gpu-layers": { type: "string", aliases: ["-ngl", "--n-gpu-layers"] },
  models: { type: "string", aliases: ["-m", "--model"] },
  temperature: { type: "string" },
  raw: { type: "boolean" },
  type: { type: "string", multiple: true },
};

describe("parseOptions", () => {
  it("takes a negative number as an option's value and as a positional", () => {
    expect(parseOptions(["--temperature", "-1", "-0.5"], specs)).toEqual({
      values: { temperature: "-1" },
      lists: {},
      positionals: ["-0.5"],
    });
    expect(parseOptions(["--temperature", "-.5"], specs).values).toEqual({ temperature: "-.5" });
  });

  it("maps llama-server's spellings, single-dash multi-letter ones included, to the long name", () => {
    const parsed = parseOptions(["-m", "/m/x.gguf", "-c", "4096", "-ngl", "99", "--ctx-size=512"], specs);
    expect(parsed.values).toEqual({ models: "/m/x.gguf", "context-size": "512", "gpu-layers": "99" });
    expect(parseOptions(["--n-gpu-layers", "0"], specs).values).toEqual({ "gpu-layers": "0" });
  });

  it("reports an unknown single-dash option whole, with the nearest known option", () => {
    expect(() => parseOptions(["-ngx", "1"], specs)).toThrow("Unknown option '-ngx'. Did you mean -ngl?");
    expect(() => parseOptions(["-q"], specs)).toThrow(/^Unknown option '-q'\.$/);
    expect(() => parseOptions(["--contxt-size", "1"], specs)).toThrow(
      "Unknown option '--contxt-size'. Did you mean --context-size?",
    );
    expect(() => parseOptions(["--frob=1"], specs)).toThrow(/^Unknown option '--frob'\.$/);
  });

  it("needs a value after a value option, and none after a switch", () => {
    expect(() => parseOptions(["--temperature"], specs)).toThrow("Option '--temperature' needs a value.");
    expect(() => parseOptions(["-m", "--raw"], specs)).toThrow("Option '-m' needs a value.");
    expect(() => parseOptions(["--raw=yes"], specs)).toThrow("Option '--raw' takes no value.");
  });

  it("keeps everything after -- and a lone - as positionals; the last repeat wins", () => {
    expect(parseOptions(["-", "--raw", "--", "--temperature", "x"], specs)).toEqual({
      values: { raw: true },
      lists: {},
      positionals: ["-", "--temperature", "x"],
    });
    expect(parseOptions(["-c", "1", "-c", "2"], specs).values).toEqual({ "context-size": "2" });
  });

  it("collects a repeatable option's values in order, apart from the single values", () => {
    const parsed = parseOptions(["--type", "inference", "-c", "1", "--type=model"], specs);
    expect(parsed.lists).toEqual({ type: ["inference", "model"] });
    expect(parsed.values).toEqual({ "context-size": "1" });
  });
});

import { describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { isModelFileName, modelNameFromFileName, normalizeModelName } from "./model-name.js";

describe("normalizeModelName", () => {
  it("strips :latest and .gguf", () => {
    expect(normalizeModelName("tiny")).toBe("tiny");
    expect(normalizeModelName("tiny:latest")).toBe("tiny");
    expect(normalizeModelName("tiny.gguf")).toBe("tiny");
    expect(normalizeModelName("tiny.gguf:latest")).toBe("tiny");
  });

  it.each([
    "../x",
    "/etc/passwd",
    "a/b",
    "..",
    "a\\b",
    "..\\x",
    "x\0y",
    "",
    ":latest",
    "C:evil",
    "a".repeat(256),
  ])("rejects %j with bad-request", (name) => {
    let caught: unknown;
    try {
      normalizeModelName(name);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe("bad-request");
    expect((caught as AppError).message).toContain("is not allowed");
    expect((caught as AppError).message).toContain("without path separators");
  });

  it("keeps a percent-encoded name literal", () => {
    expect(normalizeModelName("%2e%2e")).toBe("%2e%2e");
  });
});

describe("modelNameFromFileName", () => {
  it("drops .gguf and keeps [A-Za-z0-9._-]", () => {
    expect(modelNameFromFileName("Llama-3.2-1B-Q4_K_M.gguf")).toBe("Llama-3.2-1B-Q4_K_M");
    expect(modelNameFromFileName("my%20model (v2).gguf")).toBe("my-model-v2-");
    expect(modelNameFromFileName("..%2F..%2Fetc.gguf")).toBe("etc");
    expect(modelNameFromFileName("a..b.gguf")).toBe("a.b");
    expect(modelNameFromFileName(".gguf")).toBeUndefined();
    expect(modelNameFromFileName("%%%")).toBeUndefined();
  });
});

describe("isModelFileName", () => {
  it("accepts visible *.gguf only", () => {
    expect(isModelFileName("tiny.gguf")).toBe(true);
    expect(isModelFileName("tiny.gguf.partial")).toBe(false);
    expect(isModelFileName(".hidden.gguf")).toBe(false);
    expect(isModelFileName(".gguf")).toBe(false);
    expect(isModelFileName("notes.txt")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { parsePullSource } from "./pull-source.js";

const endpoint = "https://hf.example";
const digest = "a".repeat(64);

describe("parsePullSource", () => {
  it("takes an http(s) URL and its file name", () => {
    expect(parsePullSource("https://host/models/tiny.gguf?download=1", { endpoint })).toEqual({
      url: "https://host/models/tiny.gguf?download=1",
      fileName: "tiny.gguf",
      expectedSha256: undefined,
      isHuggingFace: false,
    });
  });

  it("reads #sha256=HEX and drops the fragment from the URL", () => {
    const parsed = parsePullSource(`http://host/tiny.gguf#sha256=${digest.toUpperCase()}`, { endpoint });
    expect(parsed.url).toBe("http://host/tiny.gguf");
    expect(parsed.expectedSha256).toBe(digest);
  });

  it("maps hf:owner/repo/path/file.gguf to the resolve URL on main", () => {
    const parsed = parsePullSource("hf:owner/repo/sub dir/file.gguf", { endpoint: endpoint + "/" });
    expect(parsed.url).toBe("https://hf.example/owner/repo/resolve/main/sub%20dir/file.gguf");
    expect(parsed.fileName).toBe("file.gguf");
    expect(parsed.isHuggingFace).toBe(true);
  });

  it("uses the revision after #", () => {
    const parsed = parsePullSource("hf:owner/repo/file.gguf#refs/pr/1", { endpoint });
    expect(parsed.url).toBe("https://hf.example/owner/repo/resolve/refs%2Fpr%2F1/file.gguf");
  });

  it.each([
    ["ftp://host/x.gguf", "scheme"],
    ["not a url", "neither a URL"],
    ["hf:owner/file.gguf", "expected hf:"],
    ["hf:owner/repo/../x.gguf", '"."'],
    ["hf:owner/repo/x.gguf#", "revision"],
    ["http://host/", "no file name"],
    ["http://host/x.gguf#other", "#sha256"],
  ])("rejects %s", (source, reason) => {
    expect(() => parsePullSource(source, { endpoint })).toThrow(reason);
  });
});

import { describe, expect, it } from "vitest";
import { pathRedactor } from "./client-paths.js";

describe("pathRedactor", () => {
  const redact = pathRedactor([
    { path: "/srv/rawrxd", label: "the server's data folder" },
    { path: "/srv/rawrxd/models/", label: "the models folder" },
  ]);

  it("keeps the file name, drops the folders, and keeps a sentence's period", () => {
    expect(redact("Model file /srv/rawrxd/models/broken.gguf is not a valid GGUF.")).toBe(
      "Model file broken.gguf is not a valid GGUF.",
    );
    expect(redact('Model "x" not found in /srv/rawrxd/models. Available: a')).toBe(
      'Model "x" not found in the models folder. Available: a',
    );
    expect(redact("Cannot open the state database /srv/rawrxd/rawrxd.db: locked")).toBe(
      "Cannot open the state database rawrxd.db: locked",
    );
  });

  it("leaves other text, URL paths and look-alike folders alone", () => {
    for (const text of ["/v1/nope does not accept GET", "see /srv/rawrxd-old/x", "/srv/rawrxd.bak", "plain"])
      expect(redact(text)).toBe(text);
  });
});

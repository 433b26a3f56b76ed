import { describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { forClient, hiddenFolders, pathRedactor } from "./client-paths.js";

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

describe("hiddenFolders", () => {
  it("hides the backup folder and the workspace wherever the operator put them", () => {
    const redact = pathRedactor(
      hiddenFolders({
        modelsDir: "/srv/models",
        home: "/srv/rawrxd",
        backupDir: "/mnt/backups",
        workspace: "/code/project",
        promptCache: "",
      }),
    );
    expect(redact("No space left in /mnt/backups/2026-12-01 (12 MB needed).")).toBe(
      "No space left in 2026-12-01 (12 MB needed).",
    );
    expect(redact("Cannot write /mnt/backups: read-only")).toBe("Cannot write the backup folder: read-only");
    expect(redact("Cannot list /code/project.")).toBe("Cannot list the workspace.");
  });
});

describe("forClient", () => {
  const redact = pathRedactor([{ path: "/srv/models", label: "the models folder" }]);

  it("keeps code, Retry-After and param, and returns the error itself when nothing is hidden", () => {
    const error = new AppError("model-load-failed", "Model file /srv/models/a.gguf could not be opened.", {
      retryAfterSeconds: 3,
      param: "model",
    });
    const sent = forClient(error, redact);
    expect(sent).toMatchObject({
      code: "model-load-failed",
      message: "Model file a.gguf could not be opened.",
      retryAfterSeconds: 3,
      param: "model",
    });
    expect(sent.cause).toBe(error);
    const plain = new AppError("bad-request", "No.");
    expect(forClient(plain, redact)).toBe(plain);
  });
});

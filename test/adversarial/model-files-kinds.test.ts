/**
 * Model "files" that are not regular files inside the models folder (#15 §1): a directory, a
 * FIFO (opening one for reading would block until a writer comes), /dev/zero and other devices
 * reached through a symlink, and symlinks out of the folder. Each is refused by name without
 * being opened; a symlink to a file inside the folder is served.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemTime } from "../../src/core/index.js";
import { readGgufHeader } from "../../src/gguf/index.js";
import {
  expectHealthy,
  expectRefused,
  goodModel,
  largestAllocationDuring,
  refusalBoundMs,
  startHostileModelServer,
  storiesPath,
  type HostileModelServer,
} from "./model-files.testing.js";

describe("model files that are not regular files in the models folder", () => {
  let test: HostileModelServer;
  let fifoPath: string;

  beforeAll(async () => {
    test = await startHostileModelServer();
    const inFolder = (name: string): string => join(test.modelsDir, `${name}.gguf`);
    mkdirSync(inFolder("a-directory"));
    fifoPath = inFolder("a-fifo");
    execFileSync("mkfifo", [fifoPath]);
    symlinkSync("/dev/zero", inFolder("dev-zero"));
    symlinkSync(fifoPath, inFolder("link-to-fifo"));
    const outsideCopy = join(test.home, "outside.gguf");
    copyFileSync(storiesPath, outsideCopy);
    symlinkSync(outsideCopy, inFolder("link-out"));
    symlinkSync("../../../../../../../../etc/passwd", inFolder("link-relative-out"));
    symlinkSync(`${goodModel}.gguf`, inFolder("link-in"));
  });
  afterAll(async () => test?.dispose());

  it("a directory named like a model: 422, said to be a directory", async () => {
    await expectRefused(test, "a-directory", {
      status: 422,
      code: "model-invalid",
      message: /Model "a-directory" is a directory in the models folder, not a regular file/,
    });
  });

  it("a FIFO: 422 at once, never opened (no writer ever comes)", async () => {
    await expectRefused(test, "a-fifo", {
      status: 422,
      code: "model-invalid",
      message: /Model "a-fifo" is a FIFO \(named pipe\) in the models folder, not a regular file/,
    });
    await expectRefused(test, "link-to-fifo", {
      status: 422,
      code: "model-invalid",
      message: /Model "link-to-fifo" is a FIFO \(named pipe\)/,
    });
  });

  it("the header reader, given a FIFO or /dev/zero directly, refuses at once without reading", async () => {
    for (const [path, kind] of [
      [fifoPath, "a FIFO (named pipe)"],
      ["/dev/zero", "a character device"],
    ] as const) {
      const startedMs = systemTime.monotonicNow();
      let error: unknown;
      const largest = await largestAllocationDuring(() =>
        readGgufHeader(path).catch((thrown: unknown) => {
          error = thrown;
        }),
      );
      expect(systemTime.monotonicNow() - startedMs).toBeLessThan(refusalBoundMs);
      expect(error).toMatchObject({ code: "model-invalid" });
      expect((error as Error).message).toContain(`it is ${kind}, not a regular file`);
      expect(largest).toBe(0);
    }
  });

  it("/dev/zero through a symlink: 403, a link out of the models folder", async () => {
    await expectRefused(test, "dev-zero", {
      status: 403,
      code: "forbidden",
      message:
        /Model "dev-zero" is a link to a file outside the models folder; links there must point to files in the same folder/,
    });
  });

  it("symlinks out of the folder, absolute or relative: 403", async () => {
    for (const model of ["link-out", "link-relative-out"]) {
      await expectRefused(test, model, {
        status: 403,
        code: "forbidden",
        message: new RegExp(`Model "${model}" is a link to a file outside the models folder`),
      });
    }
  });

  it("a symlink to a model inside the folder is served", async () => {
    const response = await fetch(`${test.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "link-in", prompt: "Once", max_tokens: 4, temperature: 0 }),
    });
    expect(response.status).toBe(200);
  });

  it("lists only the regular files and the link inside, reports the rest, and stays healthy", async () => {
    const listed = (await (await fetch(`${test.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(listed.models.map((model) => model.name).sort()).toEqual([goodModel, "link-in"]);
    // The operator's view (admin): each refused name with its reason, none of them opened.
    const files = (await (await fetch(`${test.url}/v1/model-files`)).json()) as {
      invalid: { name: string; error: string; error_code: string }[];
    };
    expect(files.invalid.map(({ name, error_code }) => [name, error_code])).toEqual([
      ["a-directory", "model-invalid"],
      ["a-fifo", "model-invalid"],
      ["dev-zero", "forbidden"],
      ["link-out", "forbidden"],
      ["link-relative-out", "forbidden"],
      ["link-to-fifo", "model-invalid"],
    ]);
    expect(files.invalid[1]!.error).toContain("is a FIFO (named pipe) in the models folder");
    await expectHealthy(test);
  });
});

/**
 * The interactive chat in-process, on stream doubles standing in for the terminal (readline reads
 * "\r" as Enter and "\x03" as Ctrl-C from any stream): what the pty test does not cover, quickly.
 * The history after a cancelled answer, the system message, /show, a server error mid-session,
 * an unknown model, and piped input keeping the one-shot behaviour.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GenerateRequest } from "../../src/core/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { startTestServer, waitFor, type TestServer } from "./helpers.js";

interface FakeTerminal {
  type(keys: string): void;
  screen(): string;
  waitForText(pattern: RegExp, what: string): Promise<void>;
  exitCode: Promise<number>;
}

// eslint-disable-next-line no-control-regex -- terminal control sequences are what it removes
const ansi = /\x1b\[[0-9;?]*[A-Za-z]|\r/g;

describe("the interactive chat in-process", () => {
  let test: TestServer;
  const requests: GenerateRequest[] = [];

  beforeAll(async () => {
    test = await startTestServer({
      models: {
        alpha: { reply: "one two three" },
        slow: { reply: Array.from({ length: 100 }, (_, i) => `w${i}`).join(" "), tokenDelayMs: 30 },
      },
      flags: { "max-tokens-limit": "1000" },
    });
    const queue = test.server.queue;
    const generate = queue.generate.bind(queue);
    queue.generate = (request, options) => {
      requests.push(request);
      return generate(request, options);
    };
  });
  afterAll(async () => test.dispose());

  function chat(model: string, flags: string[] = []): FakeTerminal {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    let text = "";
    stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    // Standard error goes to the same screen, in order, as on a terminal.
    const stderr = { write: (chunk: string) => (text += chunk) };
    const io = { ...createRecordingIo({ env: { RAWRXD_URL: test.url } }), stdin, stdout, stderr };
    const screen = () => text.replace(ansi, "");
    return {
      type: (keys) => stdin.write(keys),
      screen,
      waitForText: async (pattern, what) => {
        await waitFor(
          () => pattern.test(screen()),
          `${what} (screen: ${JSON.stringify(screen().slice(-300))})`,
          10_000,
        );
      },
      exitCode: main(["run", model, ...flags], io),
    };
  }

  it("drops a cancelled exchange from the history and sends the system message", async () => {
    const terminal = chat("slow");
    await terminal.waitForText(/>>> $/, "the prompt");
    terminal.type("/set system Be brief.\r");
    await terminal.waitForText(/Set system message\.\n>>> $/, "the system message set");
    terminal.type("first question\r");
    await terminal.waitForText(/w2 /, "the answer to stream");
    terminal.type("\x03");
    await terminal.waitForText(/\n>>> $/, "the prompt after the cancel");
    terminal.type("/set parameter num_predict 2\r");
    terminal.type("second question\r");
    await terminal.waitForText(/w0 w1\n\n>>> $/, "the second answer");
    expect(requests.at(-1)!.input).toEqual({
      kind: "chat",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "second question" },
      ],
    });
    terminal.type("/show parameters\r");
    await terminal.waitForText(/num_predict\s+2\n>>> $/, "the parameters");
    terminal.type("/show system\r");
    await terminal.waitForText(/Be brief\.\n>>> $/, "the system message");
    terminal.type("/bye\r");
    expect(await terminal.exitCode).toBe(0);
  });

  it("prints a server error and keeps the session; /show info describes the model", async () => {
    const terminal = chat("alpha");
    await terminal.waitForText(/>>> $/, "the prompt");
    terminal.type("/set parameter num_predict 5000\r");
    terminal.type("hello\r");
    await terminal.waitForText(/at most 1000.*\(HTTP 400\)/, "the server's refusal");
    terminal.type("/set parameter num_predict 10\r");
    terminal.type("hello again\r");
    await terminal.waitForText(/one two three\n\n>>> $/, "the answer");
    expect(requests.at(-1)!.input).toEqual({
      kind: "chat",
      messages: [{ role: "user", content: "hello again" }],
    });
    terminal.type("/show\r");
    await terminal.waitForText(/architecture\s+llama/, "the model's details");
    terminal.type("/nonsense\r");
    await terminal.waitForText(/Unknown command '\/nonsense'\. Type \/\? for help\./, "the unknown command");
    terminal.type("/?\r");
    await terminal.waitForText(/\/set parameter NAME VALUE/, "the help");
    terminal.type("/bye\r");
    expect(await terminal.exitCode).toBe(0);
  });

  it('Ctrl-C clears a half-typed line or an open """ block; --verbose prints the counts', async () => {
    const terminal = chat("alpha", ["--verbose"]);
    await terminal.waitForText(/>>> $/, "the prompt");
    terminal.type("half a line\x03");
    await terminal.waitForText(/half a line\^C\n>>> $/, "the line cleared");
    terminal.type('"""one\r');
    await terminal.waitForText(/\.\.\. $/, "the continuation prompt");
    terminal.type("\x03");
    await terminal.waitForText(/\^C\n>>> $/, "the block dropped");
    terminal.type("real\r");
    await terminal.waitForText(/eval count:\s+3 token\(s\)\n[\s\S]*>>> $/, "the answer with its counts");
    expect(requests.at(-1)!.input).toEqual({ kind: "chat", messages: [{ role: "user", content: "real" }] });
    terminal.type("\x04");
    expect(await terminal.exitCode).toBe(0);
  });

  it("fails at once, before any prompt, for a model the server does not have", async () => {
    const terminal = chat("nope");
    expect(await terminal.exitCode).toBe(1);
    expect(terminal.screen()).toMatch(/nope/);
    expect(terminal.screen()).not.toMatch(/>>>/);
  });

  it("keeps the one-shot behaviour for piped input", async () => {
    const io = createRecordingIo({ env: { RAWRXD_URL: test.url }, stdinText: "a piped prompt\n" });
    expect(await main(["run", "alpha"], io)).toBe(0);
    expect(io.output()).toBe("one two three\n");
    expect(requests.at(-1)!.input).toMatchObject({ prompt: "a piped prompt" });
  });
});

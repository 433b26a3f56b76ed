/**
 * `rawrxd run MODEL` as an interactive chat, driven through a pseudo-terminal (util-linux
 * `script`) against a real server with FakeEngine: streamed answers, history, /set parameter, a
 * `"""` message, Ctrl-C cancelling an answer on the server, the exit hint, /bye.
 */
import { resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GenerateRequest } from "../../src/core/index.js";
import { hasScriptCommand, startPty, type PtySession } from "../support/pty.js";
import { startTestServer, waitFor, type TestServer } from "./helpers.js";

const bin = resolve(process.cwd(), "bin/rawrxd.js");
const prompt = />>> $/;

describe.runIf(hasScriptCommand())("rawrxd run as an interactive chat on a terminal", () => {
  let test: TestServer;
  const requests: GenerateRequest[] = [];
  const sessions: PtySession[] = [];

  beforeAll(async () => {
    test = await startTestServer({
      models: {
        alpha: { reply: "one two three" },
        slow: { reply: Array.from({ length: 200 }, (_, i) => `w${i}`).join(" "), tokenDelayMs: 50 },
      },
    });
    const queue = test.server.queue;
    const generate = queue.generate.bind(queue);
    queue.generate = (request, options) => {
      requests.push(request);
      return generate(request, options);
    };
  });
  afterEach(() => sessions.forEach((session) => session.kill()));
  afterAll(async () => test.dispose());

  function chat(model: string): PtySession {
    const session = startPty(`${process.execPath} ${bin} run ${model}`, { env: { RAWRXD_URL: test.url } });
    sessions.push(session);
    return session;
  }

  it("streams answers, keeps the history, takes /set parameter and a multi-line message, exits on /bye", async () => {
    const session = chat("alpha");
    await session.waitForText(prompt, "the first prompt");
    let from = session.mark();
    session.type("hello there\r");
    await session.waitForText(/one two three\n\n>>> $/, "the first answer", from);

    from = session.mark();
    session.type("/set parameter temperature 0.5\r");
    await session.waitForText(/Set parameter 'temperature' to '0.5'\n>>> $/, "the parameter set", from);

    from = session.mark();
    session.type('"""first line\r');
    await session.waitForText(/\.\.\. $/, "the continuation prompt", from);
    session.type('second line"""\r');
    await session.waitForText(/one two three\n\n>>> $/, "the second answer", from);

    const last = requests.at(-1)!;
    expect(last.model).toBe("alpha");
    expect(last.input).toEqual({
      kind: "chat",
      messages: [
        { role: "user", content: "hello there" },
        { role: "assistant", content: "one two three" },
        { role: "user", content: "first line\nsecond line" },
      ],
    });
    expect(last.sampling.temperature).toBe(0.5);

    from = session.mark();
    session.type("/clear\r");
    await session.waitForText(/Cleared session context\n>>> $/, "the history cleared", from);
    session.type("/bye\r");
    expect(await session.exited).toBe(0);
  });

  it("Ctrl-C clears a line, cancels the answer on the server; at an empty prompt it hints, and a second one exits", async () => {
    const ends: { requestId: string; outcome: string }[] = [];
    const stop = test.server.events.on("request-end", (event) => ends.push(event));
    try {
      const session = chat("slow");
      await session.waitForText(prompt, "the first prompt");
      session.type("half a line\x03");
      await session.waitForText(/half a line\^C\n>>> $/, "the line cleared", session.mark());
      const from = session.mark();
      session.type("tell me a story\r");
      await session.waitForText(/w3 /, "the answer to start streaming", from);
      const request = requests.at(-1)!;
      session.type("\x03");
      const end = await waitFor(
        () => ends.find((event) => event.requestId === request.id),
        "the server to end the request",
        10_000,
      );
      expect(end.outcome).toBe("cancelled");
      const afterCancel = await session.waitForText(/\n>>> $/, "the prompt after the cancel", from);
      expect(afterCancel).not.toMatch(/w150/);

      session.type("\x03");
      await session.waitForText(/Use Ctrl \+ d or \/bye to exit\.\n\n>>> $/, "the exit hint", session.mark());
      session.type("\x03");
      expect(await session.exited).toBe(0);
    } finally {
      stop();
    }
  });

  it("Ctrl-D at the prompt exits", async () => {
    const session = chat("alpha");
    await session.waitForText(prompt, "the first prompt");
    session.type("\x04");
    expect(await session.exited).toBe(0);
  });
});

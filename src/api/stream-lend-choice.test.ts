import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { textFrameTemplate, type GenerateRequest } from "../core/index.js";
import type { Scheduler } from "../scheduler/index.js";
import type { ApiDeps } from "./deps.js";
import type { EventFormat } from "./event-frames.js";
import type { StartedGeneration } from "./generation.js";
import { socketLenderFor } from "./stream-lend-choice.js";

const request: GenerateRequest = {
  id: "req-1",
  model: "m",
  input: { kind: "text", prompt: "Once" },
  maxTokens: 8,
  stop: [],
  sampling: { temperature: 0 },
  reportProgress: false,
  priority: "normal",
};
const format: EventFormat = {
  opening: "",
  frames: () => "",
  error: () => "",
  textFrame: textFrameTemplate(`data: {"text":"\\u0000"}\n\n`),
};
const started = { recordsContent: false } as StartedGeneration;

function depsWith(flags: Record<string, string>, lendStream?: Scheduler["lendStream"]): ApiDeps {
  const queue = { lendStream } as unknown as Scheduler;
  return { config: loadConfig({ flags, env: {}, readConfigFile: false }), queue } as unknown as ApiDeps;
}

describe("socketLenderFor", () => {
  const asked: string[] = [];
  const lendStream: Scheduler["lendStream"] = (id) => {
    asked.push(id);
    return Promise.resolve(undefined);
  };

  it("lends a plain stream by default, through the scheduler, for the request's id", async () => {
    const lender = socketLenderFor(depsWith({}, lendStream), { request, started, format });
    expect(lender).toBeDefined();
    expect(await lender!(new Socket())).toBeUndefined();
    expect(asked).toEqual(["req-1"]);
  });

  const cases: [string, ApiDeps, Partial<GenerateRequest>, boolean, EventFormat][] = [
    ["the setting is off", depsWith({ "stream-socket-lending": "off" }, lendStream), {}, false, format],
    ["the scheduler cannot lend", depsWith({}), {}, false, format],
    ["the audit records content", depsWith({}, lendStream), {}, true, format],
    ["logprobs are asked for", depsWith({}, lendStream), { logprobs: { top: 2 } }, false, format],
    [
      "tools are offered",
      depsWith({}, lendStream),
      { tools: { tools: [] } as unknown as GenerateRequest["tools"] },
      false,
      format,
    ],
    ["the route has no template", depsWith({}, lendStream), {}, false, { ...format, textFrame: undefined }],
  ];
  it.each(cases)("does not lend when %s", (...[, deps, change, recordsContent, eventFormat]) => {
    const stream = {
      request: { ...request, ...change },
      started: { recordsContent } as StartedGeneration,
      format: eventFormat,
    };
    expect(socketLenderFor(deps, stream)).toBeUndefined();
  });
});

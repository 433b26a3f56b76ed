import { describe, expect, it } from "vitest";
import { AppError } from "../../core/index.js";
import { nameToolResults, toolCallDeltas, toolOptions } from "./tool-calls.js";

const tool = (name: string) => ({ type: "function" as const, function: { name } });

describe("OpenAI tool fields", () => {
  it("maps tools, tool_choice and parallel_tool_calls", () => {
    expect(toolOptions({ tools: [tool("a")] })).toEqual({
      definitions: [{ name: "a" }],
      choice: "auto",
      parallel: true,
    });
    expect(
      toolOptions({
        tools: [tool("a"), tool("b")],
        tool_choice: { type: "function", function: { name: "b" } },
        parallel_tool_calls: false,
      }),
    ).toMatchObject({ choice: { name: "b" }, parallel: false });
  });

  it("offers no tools for tool_choice none or an empty list", () => {
    expect(toolOptions({ tools: [tool("a")], tool_choice: "none" })).toBeUndefined();
    expect(toolOptions({ tools: [] })).toBeUndefined();
  });

  it("refuses a forced call without tools, naming tool_choice", () => {
    expect(() => toolOptions({ tool_choice: "required" })).toThrow(AppError);
    try {
      toolOptions({ tool_choice: "required" });
    } catch (error) {
      expect((error as AppError).param).toBe("tool_choice");
    }
  });

  it("names a tool result by the call it answers", () => {
    const messages = nameToolResults([
      { role: "assistant", content: "", toolCalls: [{ id: "x", name: "get_time", arguments: "{}" }] },
      { role: "tool", content: "noon", toolCallId: "x" },
    ]);
    expect(messages[1]!.toolName).toBe("get_time");
  });

  it("streams a call as id and name first, then its arguments in fragments", () => {
    const args = JSON.stringify({ city: "Paris", units: "metric", days: 3 });
    const deltas = toolCallDeltas(1, { id: "call_1", name: "get_weather", arguments: args }) as {
      index: number;
      id?: string;
      function: { name?: string; arguments: string };
    }[];
    expect(deltas[0]).toEqual({
      index: 1,
      id: "call_1",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.every((delta) => delta.index === 1)).toBe(true);
    expect(deltas.map((delta) => delta.function.arguments).join("")).toBe(args);
  });
});

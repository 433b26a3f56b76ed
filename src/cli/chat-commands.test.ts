import { describe, expect, it } from "vitest";
import { formatParameterList, MultilineInput, parseChatInput } from "./chat-commands.js";

describe("the chat's commands", () => {
  it("reads messages, /bye, /clear and help", () => {
    expect(parseChatInput("hello")).toEqual({ kind: "message", text: "hello" });
    expect(parseChatInput("   ")).toEqual({ kind: "empty" });
    expect(parseChatInput("/bye")).toEqual({ kind: "bye" });
    expect(parseChatInput("/clear")).toEqual({ kind: "clear" });
    expect(parseChatInput("/?")).toEqual({ kind: "help" });
    expect(parseChatInput("/help")).toEqual({ kind: "help" });
    expect(parseChatInput("/nope")).toEqual({
      kind: "error",
      message: "Unknown command '/nope'. Type /? for help.",
    });
  });

  it("sets parameters with the server's ranges, and lists them", () => {
    expect(parseChatInput("/set parameter temperature 0.7")).toEqual({
      kind: "set-parameter",
      name: "temperature",
      value: 0.7,
    });
    expect(parseChatInput("/set parameter num_predict -1")).toMatchObject({ value: -1 });
    expect(parseChatInput("/set parameter stop <end> ###")).toMatchObject({ value: ["<end>", "###"] });
    expect(parseChatInput("/set parameter top_k 2.5")).toEqual({
      kind: "error",
      message: 'top_k expects a whole number of 0 or more, got "2.5".',
    });
    expect(parseChatInput("/set parameter temperature 3")).toMatchObject({ kind: "error" });
    expect(parseChatInput("/set parameter seed")).toMatchObject({ kind: "error" });
    expect(parseChatInput("/set parameter mirostat 1")).toMatchObject({
      kind: "error",
      message: expect.stringMatching(/^Unknown parameter 'mirostat'\. Known: temperature, top_p/),
    });
    expect(parseChatInput("/set parameter")).toEqual({ kind: "list-parameters" });
    expect(formatParameterList()).toMatch(/\/set parameter num_ctx\s+Context tokens/);
  });

  it("sets the system message verbatim and shows what was asked", () => {
    expect(parseChatInput("/set system You are  terse.")).toEqual({
      kind: "set-system",
      text: "You are  terse.",
    });
    expect(parseChatInput("/set system")).toMatchObject({ kind: "error" });
    expect(parseChatInput("/show")).toEqual({ kind: "show", what: "info" });
    expect(parseChatInput("/show parameters")).toEqual({ kind: "show", what: "parameters" });
    expect(parseChatInput("/show license")).toMatchObject({ kind: "error" });
  });
});

describe('messages of several lines between """', () => {
  it("joins the lines and passes other lines through", () => {
    const input = new MultilineInput();
    expect(input.push("plain")).toBe("plain");
    expect(input.push('"""one')).toBeUndefined();
    expect(input.isOpen).toBe(true);
    expect(input.push("")).toBeUndefined();
    expect(input.push("/bye is text here")).toBeUndefined();
    expect(input.push('three"""')).toBe("one\n\n/bye is text here\nthree");
    expect(input.isOpen).toBe(false);
  });

  it('takes """ on lines of their own, a block on one line, and a reset', () => {
    const input = new MultilineInput();
    expect(input.push('"""')).toBeUndefined();
    expect(input.push("a")).toBeUndefined();
    expect(input.push('"""')).toBe("a");
    expect(input.push('"""inline"""')).toBe("inline");
    input.push('"""open');
    input.reset();
    expect(input.push("next")).toBe("next");
  });
});

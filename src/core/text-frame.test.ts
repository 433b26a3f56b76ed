import { describe, expect, it } from "vitest";
import { renderTextFrame, textFrameTemplate, textSlotMarker, timeSlotMarker } from "./text-frame.js";

describe("text frame templates", () => {
  it("renders the frame a route would build for a piece and a time", () => {
    const build = (text: string, at: string) =>
      JSON.stringify({ model: "m", created_at: at, response: text, done: false }) + "\n";
    const template = textFrameTemplate(build(textSlotMarker, timeSlotMarker));
    expect(template.slots).toEqual(["time", "text"]);
    for (const text of ["a", ' "quoted"\n', "é\u0000\u2028", ""]) {
      expect(renderTextFrame(template, text, "2026-01-01T00:00:00.000Z")).toBe(
        build(text, "2026-01-01T00:00:00.000Z"),
      );
    }
  });

  it("has no slots for a frame without markers", () => {
    expect(textFrameTemplate("data: [DONE]\n\n")).toEqual({ parts: ["data: [DONE]\n\n"], slots: [] });
  });
});

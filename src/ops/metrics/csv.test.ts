import { describe, expect, it } from "vitest";
import { parseCsv, toCsv } from "./csv.js";

describe("CSV (RFC 4180)", () => {
  it("round-trips text with commas, quotes, line breaks and unicode, and numbers", () => {
    const header = ["name", "note", "value"];
    const rows = [
      ["plain", "a, b", 1.5],
      ['say "hi"', "line one\r\nline two", -3],
      ["naïve ☃", "lf\nonly", 0],
      ["", null, undefined],
    ];
    const text = toCsv(header, rows);
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text.split("\r\n")[0]).toBe("name,note,value");
    expect(parseCsv(text)).toEqual([
      header,
      ["plain", "a, b", "1.5"],
      ['say "hi"', "line one\r\nline two", "-3"],
      ["naïve ☃", "lf\nonly", "0"],
      ["", "", ""],
    ]);
  });

  it("quotes only where needed and doubles quotes", () => {
    expect(toCsv(["a", "b"], [["x", 'q"q']])).toBe('a,b\r\nx,"q""q"\r\n');
  });

  it("neutralises text a spreadsheet would run as a formula, but not numbers", () => {
    const text = toCsv(["cell"], [['=HYPERLINK("x")'], ["@SUM(A1)"], ["-A1"], [-2]]);
    expect(
      parseCsv(text)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(['\'=HYPERLINK("x")', "'@SUM(A1)", "'-A1", "-2"]);
  });

  it("rejects an unterminated quote", () => {
    expect(() => parseCsv('a\r\n"open')).toThrow(/inside a quoted field/);
  });
});

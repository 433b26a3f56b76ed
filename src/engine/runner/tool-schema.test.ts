import { describe, expect, it } from "vitest";
import { toGrammarSchema } from "./tool-schema.js";

describe("toGrammarSchema", () => {
  it("turns anyOf into oneOf, drops $schema, and types shapes without a type", () => {
    expect(
      toGrammarSchema({
        $schema: "http://json-schema.org/draft-07/schema#",
        properties: {
          when: { anyOf: [{ type: "string" }, { type: "null" }] },
          tags: { items: { type: "string" } },
        },
        required: ["when"],
        additionalProperties: false,
      }),
    ).toEqual({
      type: "object",
      properties: {
        when: { oneOf: [{ type: "string" }, { type: "null" }] },
        tags: { type: "array", items: { type: "string" } },
      },
      required: ["when"],
      additionalProperties: false,
    });
  });

  it("lets a node without any shape take any scalar", () => {
    expect(toGrammarSchema({ description: "anything" })).toEqual({
      description: "anything",
      type: ["string", "number", "boolean", "null"],
    });
  });

  it("unwraps a single allOf and keeps enums and refs", () => {
    expect(toGrammarSchema({ allOf: [{ enum: ["a", "b"] }], description: "d" })).toEqual({
      description: "d",
      enum: ["a", "b"],
    });
    expect(toGrammarSchema({ $ref: "#/$defs/x", $defs: { x: { type: "integer" } } })).toEqual({
      $ref: "#/$defs/x",
      $defs: { x: { type: "integer" } },
    });
  });
});

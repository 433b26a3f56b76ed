/**
 * Tool parameter schemas as node-llama-cpp's grammar takes them. Clients send JSON Schema as
 * their libraries write it (pydantic's `anyOf` for optional fields, zod's `$schema`, objects
 * without `type`); the grammar knows `oneOf` and needs a type or a shape on every node. For
 * generating a value, `anyOf` means the same as `oneOf`; a node with no shape takes any scalar.
 */
const anyScalar = { type: ["string", "number", "boolean", "null"] };

export function toGrammarSchema(schema: unknown): unknown {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return anyScalar;
  const source = schema as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === "$schema" || key === "anyOf" || key === "allOf") continue;
    result[key] = value;
  }
  const variants = source["anyOf"] ?? source["oneOf"];
  if (Array.isArray(variants)) result["oneOf"] = variants.map(toGrammarSchema);
  const allOf = source["allOf"];
  if (Array.isArray(allOf) && allOf.length === 1)
    return toGrammarSchema({ ...result, ...(allOf[0] as object) });
  if (isRecord(source["properties"])) {
    result["properties"] = Object.fromEntries(
      Object.entries(source["properties"]).map(([name, value]) => [name, toGrammarSchema(value)]),
    );
    result["type"] ??= "object";
  }
  if (source["items"] !== undefined) {
    result["items"] = toGrammarSchema(source["items"]);
    result["type"] ??= "array";
  }
  if (isRecord(source["additionalProperties"])) {
    result["additionalProperties"] = toGrammarSchema(source["additionalProperties"]);
  }
  for (const defsKey of ["$defs", "definitions"]) {
    const defs = source[defsKey];
    if (isRecord(defs)) {
      result[defsKey] = Object.fromEntries(
        Object.entries(defs).map(([name, value]) => [name, toGrammarSchema(value)]),
      );
    }
  }
  const hasShape = ["type", "const", "enum", "oneOf", "$ref"].some((key) => result[key] !== undefined);
  return hasShape ? result : { ...result, ...anyScalar };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

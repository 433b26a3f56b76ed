/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, undefined members dropped
 * (the subset of RFC 8785 JCS that audit records need: strings, finite numbers, booleans, null).
 * The same value always gives the same bytes, so a hash over it is reproducible by an auditor.
 * Written as plain loops: it runs twice per audit record on the append path.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      // String() and JSON.stringify agree on every finite number (-0 → "0", 1e21 → "1e+21").
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    case "bigint":
    case "function":
    case "symbol":
    case "undefined":
      return "null";
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let text = "[";
  for (let index = 0; index < items.length; index += 1)
    text += (index === 0 ? "" : ",") + canonicalJson(items[index]);
  return text + "]";
}

function canonicalObject(object: Record<string, unknown>): string {
  // Default sort compares UTF-16 code units, as RFC 8785 orders keys.
  const keys = Object.keys(object).sort();
  let text = "{";
  let isFirst = true;
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    text += (isFirst ? "" : ",") + JSON.stringify(key) + ":" + canonicalJson(member);
    isFirst = false;
  }
  return text + "}";
}

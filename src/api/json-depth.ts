/**
 * Bounds how deeply a request body nests. JSON.parse takes 100,000 levels in its stride, but
 * what runs after it recurses — JSON-schema-to-grammar, structured clone and JSON.stringify on
 * the way to a runner — and overflows the stack (a 500 before this check). The walk here keeps
 * its own stack, so any depth is measured safely.
 */

/** Deeper than any real request: tool parameters and JSON schemas nest a dozen levels at most. */
export const maxJsonDepth = 100;

/**
 * The path (keys and indexes) to the first object or array nested deeper than `limit`, or
 * undefined when the value stays within it. The top-level body is depth 1.
 */
export function pathBeyondDepth(value: unknown, limit = maxJsonDepth): (string | number)[] | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (path.length >= limit) return path;
    if (Array.isArray(current))
      current.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
    else for (const [key, item] of Object.entries(current)) stack.push({ value: item, path: [...path, key] });
  }
  return undefined;
}

/**
 * Which methods a path has routes for, so a known path with the wrong method answers 405 with
 * an `Allow` header (RFC 9110 §15.5.6) instead of a 404 that reads as "no such endpoint".
 */
export interface RouteEntry {
  method: string;
  path: string;
}

/** The methods routed for `path` (middleware, registered for ALL, excluded), sorted; HEAD with GET. */
export function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || !patternOf(route.path).test(path)) continue;
    methods.add(route.method);
    if (route.method === "GET") methods.add("HEAD");
  }
  return [...methods].sort();
}

const patterns = new Map<string, RegExp>();

/** Hono route paths use `:name` segments and a trailing `*`. */
function patternOf(routePath: string): RegExp {
  let pattern = patterns.get(routePath);
  if (pattern === undefined) {
    const source = routePath
      .split("/")
      .map((segment) =>
        segment.startsWith(":")
          ? "[^/]+"
          : segment === "*"
            ? ".*"
            : segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&"),
      )
      .join("/");
    pattern = new RegExp(`^${source}/?$`);
    patterns.set(routePath, pattern);
  }
  return pattern;
}

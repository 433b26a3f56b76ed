/**
 * Which routes a `user` key may use: inference, model listings and its own requests. Everything
 * else (keys, metrics, GPU details, and every admin route added later) is for `admin` only, so a
 * new route is closed to users until it is listed here.
 */
import type { Role } from "../core/index.js";

const userRoutes: Record<string, readonly (string | RegExp)[]> = {
  GET: [
    "/",
    "/health",
    "/ready",
    "/v1/models",
    /^\/v1\/models\/[^/]+$/,
    "/v1/queue",
    /^\/v1\/queue\/[^/]+$/,
    "/api/tags",
    "/api/ps",
    "/api/version",
    // Who am I: the shell asks it to know which panels to show.
    "/v1/whoami",
    "/props",
  ],
  POST: [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/api/generate",
    "/api/chat",
    "/api/embed",
    "/api/embeddings",
    "/api/show",
    "/infill",
    "/tokenize",
    "/detokenize",
    "/apply-template",
  ],
  // The route itself refuses another key's request.
  DELETE: [/^\/v1\/requests\/[^/]+$/],
};

/** Paths where a query string or a trailing slash must not dodge the table. */
function normalize(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

export function mayUse(role: Role, request: { method: string; path: string }): boolean {
  if (role === "admin") return true;
  const method = request.method === "HEAD" ? "GET" : request.method;
  const path = normalize(request.path);
  return (userRoutes[method] ?? []).some((route) =>
    typeof route === "string" ? route === path : route.test(path),
  );
}

/**
 * Admin-only reads that monitoring polls (Prometheus scrapes, dashboards, SLA status): a successful
 * authentication on them is not recorded per use (only a key's first use), or a 15 s scrape
 * would fill the audit log. Metrics exports leave their own `data` records.
 */
export function isMonitoringRead(request: { method: string; path: string }): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const path = normalize(request.path);
  // The SLA status and incident list are polled too; a month's report is not.
  return path === "/metrics" || /^\/v1\/(metrics|gpu|sla\/status|sla\/incidents)(\/|$)/.test(path);
}

/** The shell's files: hashed build assets and the favicon, never anything else. */
const shellAssetPath = /^\/assets\/[A-Za-z0-9_.-]+\.(js|css|svg|woff2)$/;

/**
 * The browser shell is reachable without a key: its page and assets hold no secrets (the page
 * then asks for a key). `/` counts only when the request asks for HTML (a browser navigating);
 * Ollama-style probes of `/` stay behind the key like every other route.
 */
export function isPublicShellRequest(request: {
  method: string;
  path: string;
  accept: string | undefined;
}): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  if (request.path === "/") return acceptsHtml(request.accept);
  return request.path === "/favicon.svg" || shellAssetPath.test(request.path);
}

/** Whether an Accept header asks for an HTML page (what browsers send when navigating). */
export function acceptsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

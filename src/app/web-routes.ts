/**
 * The shell (web/, built by Vite into web/dist): GET / for a browser (Accept: text/html; other
 * clients get the text banner from the native routes) and its hashed assets under /assets/.
 * Every answer carries a strict Content-Security-Policy: same-origin scripts, styles, images and
 * connections only, no inline script, no eval, no framing. index.html is never cached (it names
 * the current assets); the hashed assets are cached for a year.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { Hono, type Context } from "hono";

/** web/dist beside the package root (this file is src/app/web-routes.ts). */
export const defaultWebDist = fileURLToPath(new URL("../../web/dist", import.meta.url));

export const shellContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const contentTypes: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  woff2: "font/woff2",
};

const assetName = /^[A-Za-z0-9_.-]+\.(js|css|svg|woff2)$/;
const yearSeconds = 365 * 24 * 3600;

const notBuiltPage =
  "RawrXD is running. The browser shell is not built: run `npm run build:web` (npm ci runs it) and reload.";

export function createWebRoutes(options: { distDir?: string } = {}): Hono {
  const distDir = options.distDir ?? defaultWebDist;
  const routes = new Hono();
  routes.get("/", async (context) => {
    const page = await readOptional(join(distDir, "index.html"));
    if (page === undefined)
      return withSecurity(context.text(notBuiltPage, 200, { "Cache-Control": "no-cache" }));
    return withSecurity(
      context.body(page, 200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" }),
    );
  });
  routes.get("/favicon.svg", (context) =>
    asset(context, { distDir, name: "favicon.svg", cache: "no-cache" }),
  );
  routes.get("/assets/:name", (context) =>
    asset(context, {
      distDir,
      name: `assets/${context.req.param("name")}`,
      cache: `public, max-age=${yearSeconds}, immutable`,
    }),
  );
  return routes;
}

async function asset(
  context: Context,
  file: { distDir: string; name: string; cache: string },
): Promise<Response> {
  const base = file.name.slice(file.name.lastIndexOf("/") + 1);
  const match = assetName.exec(base);
  const bytes = match === null ? undefined : await readOptional(join(file.distDir, file.name));
  if (match === null || bytes === undefined)
    return withSecurity(context.json({ error: { message: `No shell asset named ${base}.` } }, 404));
  return withSecurity(
    context.body(bytes, 200, {
      "Content-Type": contentTypes[match[1]!] ?? "application/octet-stream",
      "Cache-Control": file.cache,
    }),
  );
}

function withSecurity(response: Response): Response {
  response.headers.set("Content-Security-Policy", shellContentSecurityPolicy);
  response.headers.set("X-Content-Type-Options", "nosniff");
  response.headers.set("Referrer-Policy", "no-referrer");
  response.headers.set("X-Frame-Options", "DENY");
  return response;
}

async function readOptional(path: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    const bytes = await readFile(path);
    return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch {
    return undefined;
  }
}

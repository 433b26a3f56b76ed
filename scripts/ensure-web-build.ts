/**
 * `npm ci` (the `prepare` script) and `npm start` (`prestart`) run this: it builds the browser
 * shell into web/dist when it is missing or older than any file under web/src, web/public,
 * web/index.html or web/vite.config.ts. Without Vite (an install with --omit=dev) it says so
 * and goes on: the server then answers browsers with a note instead of the shell.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const web = join(import.meta.dirname, "..", "web");
const builtPage = join(web, "dist", "index.html");

function newestMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMs(join(path, name))));
}

const vite = join(import.meta.dirname, "..", "node_modules", "vite", "bin", "vite.js");
const sourcesMs = Math.max(
  ...["src", "public", "index.html", "vite.config.ts"].map((name) => newestMs(join(web, name))),
);
const isStale = !existsSync(builtPage) || statSync(builtPage).mtimeMs < sourcesMs;
if (isStale && !existsSync(vite)) {
  console.warn(
    "The browser shell is not built and Vite is not installed (npm ci installs it); serving without it.",
  );
} else if (isStale) {
  console.log("Building the browser shell (web/ → web/dist)…");
  execFileSync(process.execPath, [vite, "build", web, "--logLevel", "warn"], { stdio: "inherit" });
}

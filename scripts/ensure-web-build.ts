/**
 * `npm ci` (the `prepare` script) and `npm start` (`prestart`) run this: it builds the browser
 * shell into web/dist when it is missing or older than any file under web/src, web/public,
 * web/index.html or web/vite.config.ts. Without Vite (an install with --omit=dev) it says so
 * and goes on: the server then answers browsers with a note instead of the shell.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { newestMtimeMs } from "../bin/server-build.js";

const web = join(import.meta.dirname, "..", "web");
const builtPage = join(web, "dist", "index.html");

const vite = join(import.meta.dirname, "..", "node_modules", "vite", "bin", "vite.js");
const sourcesMs = Math.max(
  ...["src", "public", "index.html", "vite.config.ts"].map((name) => newestMtimeMs(join(web, name))),
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

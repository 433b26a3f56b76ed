/**
 * `npm start` runs this first (prestart): builds the browser shell into web/dist when it is
 * missing or older than any file under web/src, web/public, web/index.html or web/vite.config.ts.
 * `npm ci` builds it already (the `prepare` script); this covers a checkout edited since.
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

const sourcesMs = Math.max(
  ...["src", "public", "index.html", "vite.config.ts"].map((name) => newestMs(join(web, name))),
);
if (!existsSync(builtPage) || statSync(builtPage).mtimeMs < sourcesMs) {
  console.log("Building the browser shell (web/ → web/dist)…");
  execFileSync(
    process.execPath,
    [
      join(import.meta.dirname, "..", "node_modules", "vite", "bin", "vite.js"),
      "build",
      web,
      "--logLevel",
      "warn",
    ],
    {
      stdio: "inherit",
    },
  );
}

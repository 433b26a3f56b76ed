/**
 * `npm ci` (the `prepare` script) and `npm start` (`prestart`) run this: it compiles src/ into
 * dist/ when dist/ is missing or older than any file under src/ (ADR 0060). Each file is
 * transformed on its own by esbuild, as tsx does at run time, but without tsx's `keepNames`
 * wrappers around every function; tests and test helpers are left out. About a second.
 * `--force` rebuilds regardless.
 */
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";
import { buildStampName, isServerBuildCurrent } from "../bin/server-build.js";

const root = join(import.meta.dirname, "..");
const source = join(root, "src");
const output = join(root, "dist");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.(test|testing)\.ts$/.test(entry.name) ? [path] : [];
  });
}

if (process.argv.includes("--force") || !isServerBuildCurrent(root)) {
  const startedMs = performance.now();
  rmSync(output, { recursive: true, force: true });
  const entryPoints = sourceFiles(source);
  await build({
    entryPoints,
    outdir: output,
    outbase: source,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
  });
  writeFileSync(join(output, buildStampName), `${new Date().toISOString()}\n`);
  const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
  console.log(
    `Compiled ${entryPoints.length} files of ${relative(root, source)}/ into ${relative(root, output)}/ in ${seconds} s.`,
  );
}

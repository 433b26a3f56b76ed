/**
 * The shell's first load stays lean: index.html and everything it references, ≤ 250 kB gzipped.
 * The Workspace panel (CodeMirror) is a lazy chunk with a budget of its own, loaded only when opened.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const dist = resolve(process.cwd(), "web/dist");
const budgetBytes = 250 * 1000;
const workspaceChunkBudgetBytes = 150 * 1000;

describe("bundle budget", () => {
  it("the first load (page, scripts, styles) is at most 250 kB gzipped, with no inline script", () => {
    const page = readFileSync(join(dist, "index.html"), "utf8");
    const assets = [...page.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.some((asset) => asset.endsWith(".js"))).toBe(true);
    const gzipped = [page, ...assets.map((asset) => readFileSync(join(dist, asset)))].reduce(
      (sum, content) => sum + gzipSync(content, { level: 9 }).length,
      0,
    );
    console.log(
      `shell first load: ${(gzipped / 1000).toFixed(1)} kB gzipped (budget ${budgetBytes / 1000} kB)`,
    );
    expect(gzipped).toBeLessThanOrEqual(budgetBytes);
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it("keeps the Workspace panel and CodeMirror out of the first load, in a lazy chunk of at most 150 kB gzipped", () => {
    const page = readFileSync(join(dist, "index.html"), "utf8");
    const chunks = readdirSync(join(dist, "assets")).filter((name) => /^workspace-panel-.*\.js$/.test(name));
    expect(chunks).toHaveLength(1);
    expect(page).not.toContain(chunks[0]);
    const chunk = readFileSync(join(dist, "assets", chunks[0]!));
    expect(chunk.toString("utf8")).toContain("cm-editor");
    const gzipped = gzipSync(chunk, { level: 9 }).length;
    console.log(
      `workspace chunk: ${(gzipped / 1000).toFixed(1)} kB gzipped (budget ${workspaceChunkBudgetBytes / 1000} kB)`,
    );
    expect(gzipped).toBeLessThanOrEqual(workspaceChunkBudgetBytes);
  });
});

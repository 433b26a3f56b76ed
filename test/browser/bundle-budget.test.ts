/** The shell's first load stays lean: index.html and everything it references, ≤ 250 kB gzipped. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const dist = resolve(process.cwd(), "web/dist");
const budgetBytes = 250 * 1000;

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
});

/**
 * Rewrites the README's settings table from the settings table (src/config/settings.ts), laid
 * out as prettier lays it out. Run after adding or changing a setting:
 *   node --import tsx scripts/readme-settings-table.ts
 * src/config/settings.test.ts fails while the README and the settings disagree.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describeSettings } from "../src/config/index.js";

const readmePath = new URL("../README.md", import.meta.url);
const lines = readFileSync(readmePath, "utf8").split("\n");
const start = lines.findIndex((line) => /^\| flag +\| env +\| default +\| meaning +\|$/.test(line));
if (start === -1) throw new Error("README.md has no settings table (a line starting with | flag | env |).");
let end = start;
while (lines[end]?.startsWith("|") === true) end++;
lines.splice(start, end - start, ...describeSettings("markdown").split("\n"));
writeFileSync(readmePath, lines.join("\n"));
console.error(`README.md: settings table rewritten (${end - start - 2} rows before).`);

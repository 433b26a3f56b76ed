/**
 * The workspace's file tree, flat and sorted by path: folders and files, without hidden (dot)
 * entries and without links that point outside the folder. Links inside count as files; linked
 * folders are not descended (no loops). Bounded in entries and depth.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { locateInsideFolder } from "../core/index.js";

export interface WorkspaceEntry {
  /** Relative to the workspace, `/`-separated. */
  path: string;
  type: "file" | "folder";
  /** Files only. */
  sizeBytes?: number;
}

export interface WorkspaceTree {
  entries: WorkspaceEntry[];
  /** More entries exist than `maxEntries` (or deeper than `maxDepth`): the listing stopped. */
  truncated: boolean;
}

export async function listWorkspaceTree(
  realRoot: string,
  limits: { maxEntries: number; maxDepth?: number },
): Promise<WorkspaceTree> {
  const maxDepth = limits.maxDepth ?? 24;
  const entries: WorkspaceEntry[] = [];
  let truncated = false;
  // Breadth first: a cut-off listing keeps the shallow entries.
  let level: string[] = [""];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth >= maxDepth) {
      truncated = true;
      break;
    }
    const next: string[] = [];
    for (const folder of level) {
      const names = await readdir(join(realRoot, folder), { withFileTypes: true }).catch(() => []);
      for (const item of names.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (item.name.startsWith(".")) continue;
        if (entries.length >= limits.maxEntries) {
          truncated = true;
          break;
        }
        const path = folder === "" ? item.name : `${folder}/${item.name}`;
        if (item.isDirectory()) {
          entries.push({ path, type: "folder" });
          next.push(path);
        } else if (item.isFile() || item.isSymbolicLink()) {
          const lookup = await locateInsideFolder(realRoot, path);
          if (lookup.kind === "found") entries.push({ path, type: "file", sizeBytes: lookup.file.sizeBytes });
        }
      }
    }
    level = next;
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, truncated };
}

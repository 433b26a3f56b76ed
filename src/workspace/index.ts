/**
 * Workspace: contained read and write access to one operator-configured folder (--workspace) for
 * the shell's editor: a file tree, reads with a version, writes checked against that version.
 */
export { Workspace, type WorkspaceOptions, type WorkspaceFile, type FileVersion } from "./workspace-files.js";
export { parseWorkspacePath, maxWorkspacePathLength } from "./workspace-path.js";
export type { WorkspaceEntry, WorkspaceTree } from "./workspace-tree.js";

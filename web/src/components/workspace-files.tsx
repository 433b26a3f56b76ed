/** The files card: the workspace's name, its tree, Refresh, and a form that creates a new file. */
import { useState } from "preact/hooks";
import type { TreeEntry } from "../workspace-api.js";
import { FileTree } from "./file-tree.js";

export function WorkspaceFiles(props: {
  name: string;
  entries: readonly TreeEntry[];
  truncated: boolean;
  selected: string | undefined;
  onOpen: (path: string) => void;
  onRefresh: () => void;
  /** Creates an empty file (in an existing folder) and opens it. */
  onCreate: (path: string) => Promise<void>;
}) {
  const [newPath, setNewPath] = useState("");
  return (
    <div class="workspace-files card">
      <h2 id="workspace-title">{props.name}</h2>
      <FileTree
        entries={props.entries}
        truncated={props.truncated}
        selected={props.selected}
        onOpen={props.onOpen}
      />
      <button type="button" onClick={props.onRefresh}>
        Refresh
      </button>
      <form
        class="new-file"
        onSubmit={(event) => {
          event.preventDefault();
          const path = newPath.trim();
          if (path !== "") void props.onCreate(path).then(() => setNewPath(""));
        }}
      >
        <label for="new-file-path">New file</label>
        <input
          id="new-file-path"
          value={newPath}
          placeholder="src/new.ts"
          onInput={(event) => setNewPath(event.currentTarget.value)}
        />
        <button type="submit" disabled={newPath.trim() === ""}>
          Create
        </button>
      </form>
    </div>
  );
}

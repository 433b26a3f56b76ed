/** The workspace's files as an indented list: folders as headings, files as buttons. */
import type { TreeEntry } from "../workspace-api.js";

export function FileTree(props: {
  entries: readonly TreeEntry[];
  truncated: boolean;
  selected: string | undefined;
  onOpen: (path: string) => void;
}) {
  return (
    <nav class="file-tree" aria-label="Workspace files">
      {props.entries.length === 0 && <p class="muted">The workspace folder is empty.</p>}
      <ul>
        {props.entries.map((entry) => {
          const depth = entry.path.split("/").length - 1;
          const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
          return (
            <li key={entry.path} style={{ paddingLeft: `${depth * 0.9}rem` }}>
              {entry.type === "folder" ? (
                <span class="folder">{name}/</span>
              ) : (
                <button
                  type="button"
                  class="link"
                  data-path={entry.path}
                  aria-current={entry.path === props.selected ? "true" : undefined}
                  onClick={() => props.onOpen(entry.path)}
                >
                  {name}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {props.truncated && <p class="muted">Listing cut short: the folder holds more files than are shown.</p>}
    </nav>
  );
}

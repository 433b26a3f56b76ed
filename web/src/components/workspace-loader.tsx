/**
 * Loads the Workspace panel (and CodeMirror with it) the first time it is opened: a separate
 * chunk, so the first page stays within its budget (test/browser/bundle-budget.test.ts).
 */
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api.js";
import type * as WorkspacePanelModule from "./workspace-panel.js";

type PanelModule = typeof WorkspacePanelModule;

export function WorkspaceLoader(props: { api: Api; active: boolean }) {
  const [module, setModule] = useState<PanelModule | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!props.active || module !== undefined) return;
    import("./workspace-panel.js").then(
      (loaded) => setModule(() => loaded),
      (failure: unknown) => setError(`The editor could not be loaded: ${String(failure)}`),
    );
  }, [props.active]);
  if (error !== undefined) return <p class="error">{error}</p>;
  if (module === undefined) return <p class="muted">Loading the editor…</p>;
  return <module.WorkspacePanel api={props.api} />;
}

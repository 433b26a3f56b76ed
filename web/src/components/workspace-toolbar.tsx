/** The editor's toolbar: the open file (• when unsaved), the model, Save, Explain and Edit selection. */
import type { ModelChoice } from "../workspace-api.js";

export function WorkspaceToolbar(props: {
  openPath: string | undefined;
  isDirty: boolean;
  models: readonly ModelChoice[];
  model: string;
  hasSelection: boolean;
  onModel: (name: string) => void;
  onSave: () => void;
  onExplain: () => void;
  onEdit: () => void;
}) {
  const canAsk = props.hasSelection && props.model !== "";
  return (
    <div class="row workspace-toolbar">
      <span id="open-file">
        {props.openPath === undefined ? "No file open" : `${props.openPath}${props.isDirty ? " •" : ""}`}
      </span>
      <label for="workspace-model">Model</label>
      <select
        id="workspace-model"
        value={props.model}
        onChange={(event) => props.onModel(event.currentTarget.value)}
      >
        {props.models.map((entry) => (
          <option key={entry.name} value={entry.name}>
            {entry.canInsert ? entry.name : `${entry.name} (no FIM)`}
          </option>
        ))}
      </select>
      <button type="button" id="save-file" disabled={props.openPath === undefined} onClick={props.onSave}>
        Save
      </button>
      <button type="button" id="explain-selection" disabled={!canAsk} onClick={props.onExplain}>
        Explain selection
      </button>
      <button type="button" id="edit-selection" disabled={!canAsk} onClick={props.onEdit}>
        Edit selection…
      </button>
    </div>
  );
}

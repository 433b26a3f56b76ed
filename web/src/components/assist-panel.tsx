/**
 * The Workspace panel's side panel: an explanation streaming in, an edit proposal as a diff to
 * accept or reject, or a save conflict (the file changed on disk) with the diff and the choices.
 */
import { useState } from "preact/hooks";
import { diffLines, isUnchanged } from "../line-diff.js";
import type { OpenedFile } from "../workspace-api.js";
import { DiffView } from "./diff-view.js";

export type Assist =
  | { kind: "none" }
  | { kind: "explain"; text: string; streaming: boolean; error?: string }
  | { kind: "edit-ask"; range: { from: number; to: number }; original: string }
  | {
      kind: "edit";
      range: { from: number; to: number };
      original: string;
      instruction: string;
      proposal: string;
      streaming: boolean;
      error?: string;
    }
  | { kind: "conflict"; disk: OpenedFile; mine: string; message: string };

export interface AssistActions {
  propose: (instruction: string) => void;
  accept: () => void;
  close: () => void;
  stop: () => void;
  overwrite: () => void;
  reload: () => void;
}

export function AssistPanel(props: { assist: Assist; actions: AssistActions }) {
  const { assist, actions } = props;
  const [instruction, setInstruction] = useState("");
  if (assist.kind === "none") return null;
  return (
    <aside class="assist card" aria-label="Assistant" aria-live="polite">
      {assist.kind === "explain" && (
        <>
          <h3>Explanation</h3>
          <div id="explanation" class="explanation">
            {assist.text === "" && assist.streaming ? "Thinking…" : assist.text}
          </div>
          {assist.error !== undefined && <p class="error">{assist.error}</p>}
        </>
      )}
      {assist.kind === "edit-ask" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (instruction.trim() !== "") actions.propose(instruction.trim());
          }}
        >
          <h3>Edit the selection</h3>
          <label for="edit-instruction">Instruction</label>
          <textarea
            id="edit-instruction"
            rows={3}
            value={instruction}
            placeholder="e.g. rename x to total and add a doc comment"
            onInput={(event) => setInstruction(event.currentTarget.value)}
          />
          <div class="row">
            <button type="submit" disabled={instruction.trim() === ""}>
              Propose
            </button>
          </div>
        </form>
      )}
      {assist.kind === "edit" && <EditProposal assist={assist} />}
      {assist.kind === "conflict" && (
        <>
          <h3>Changed on disk</h3>
          <p class="error" role="alert">
            {assist.message}
          </p>
          <p class="muted">Lines on disk now (−) against yours (+):</p>
          <DiffView lines={diffLines(assist.disk.content, assist.mine)} label="Disk against yours" />
        </>
      )}
      <div class="row">
        {assist.kind === "edit" && !assist.streaming && assist.error === undefined && (
          <button type="button" id="accept-edit" onClick={actions.accept}>
            Accept edit
          </button>
        )}
        {assist.kind === "conflict" && (
          <>
            <button type="button" id="overwrite" onClick={actions.overwrite}>
              Save mine over it
            </button>
            <button type="button" id="reload" onClick={actions.reload}>
              Discard mine, reload
            </button>
          </>
        )}
        {(assist.kind === "explain" || assist.kind === "edit") && assist.streaming && (
          <button type="button" onClick={actions.stop}>
            Stop
          </button>
        )}
        <button type="button" onClick={actions.close}>
          {assist.kind === "edit" ? "Reject" : "Close"}
        </button>
      </div>
    </aside>
  );
}

function EditProposal(props: { assist: Extract<Assist, { kind: "edit" }> }) {
  const { assist } = props;
  const lines = diffLines(assist.original, assist.proposal);
  return (
    <>
      <h3>Proposed edit</h3>
      <p class="muted">{assist.instruction}</p>
      {assist.streaming && <p class="muted">Writing…</p>}
      {assist.error !== undefined && <p class="error">{assist.error}</p>}
      {!assist.streaming && isUnchanged(lines) && <p class="muted">The model proposed no change.</p>}
      <DiffView lines={lines} label="Proposed edit" />
    </>
  );
}

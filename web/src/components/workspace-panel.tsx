/**
 * The Workspace panel (issue #16 §5): the --workspace folder's files, a CodeMirror editor with
 * ghost-text completion from the model (fill-in-the-middle through /infill; Tab accepts, typing
 * cancels), "explain selection" streaming into the side panel, "edit selection" as a diff to
 * accept or reject, and saving against the version opened (409: the file changed on disk).
 * This module and CodeMirror are a lazy chunk: the first page does not load them.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, type Api } from "../api.js";
import { createEditor, replaceRange, selectionOf, type Editor } from "../code-editor.js";
import type { GhostStatus } from "../ghost-text.js";
import {
  codeOfAnswer,
  editPrompt,
  editSystemPrompt,
  explainPrompt,
  explainSystemPrompt,
  WorkspaceApi,
  type ModelChoice,
  type OpenedFile,
  type TreeEntry,
} from "../workspace-api.js";
import { AssistPanel, type Assist } from "./assist-panel.js";
import { FileTree } from "./file-tree.js";
import "../workspace.css";

const ghostLabels: Record<GhostStatus, string> = {
  idle: "",
  waiting: "Completing…",
  shown: "Suggestion: Tab accepts, Esc dismisses",
  error: "Completion failed",
};

type Setup =
  | { kind: "loading" }
  | { kind: "ready"; name: string; entries: TreeEntry[]; truncated: boolean }
  | { kind: "missing"; message: string }
  | { kind: "error"; message: string };

export function WorkspacePanel(props: { api: Api }) {
  const workspace = useMemo(
    () => new WorkspaceApi(props.api, `workspace-${crypto.randomUUID()}`),
    [props.api],
  );
  const [setup, setSetup] = useState<Setup>({ kind: "loading" });
  const [models, setModels] = useState<ModelChoice[]>([]);
  const [model, setModel] = useState("");
  const [opened, setOpened] = useState<OpenedFile | undefined>(undefined);
  const [text, setText] = useState("");
  const [hasSelection, setHasSelection] = useState(false);
  const [status, setStatus] = useState("");
  const [ghost, setGhost] = useState<{ status: GhostStatus; detail?: string }>({ status: "idle" });
  const [assist, setAssist] = useState<Assist>({ kind: "none" });
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Editor | undefined>(undefined);
  const modelRef = useRef(model);
  modelRef.current = model;
  const saveRef = useRef<() => void>(() => undefined);
  const assistRun = useRef<AbortController | undefined>(undefined);

  const loadTree = async (): Promise<void> => {
    try {
      const info = await workspace.info();
      if (!info.enabled) {
        setSetup({ kind: "missing", message: info.message ?? "No workspace is configured." });
        return;
      }
      const tree = await workspace.tree();
      setSetup({ kind: "ready", name: info.name ?? "", entries: tree.entries, truncated: tree.truncated });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      setSetup(
        error instanceof ApiError && error.status === 404
          ? { kind: "missing", message }
          : { kind: "error", message },
      );
    }
  };

  useEffect(() => {
    void loadTree();
    void workspace
      .models()
      .then((list) => {
        setModels(list);
        // A model with FIM tokens first: the others answer completions with a 400.
        const preferred = list.find((entry) => entry.canInsert) ?? list[0];
        setModel((current) => current || (preferred?.name ?? ""));
      })
      .catch(() => undefined);
  }, [workspace]);

  useEffect(() => {
    if (host.current === null || editor.current !== undefined) return undefined;
    editor.current = createEditor({
      parent: host.current,
      onChange: setText,
      onSave: () => saveRef.current(),
      onSelection: setHasSelection,
      ghost: {
        debounceMs: 250,
        complete: ({ prefix, suffix }, signal) =>
          modelRef.current === ""
            ? Promise.resolve("")
            : workspace.complete({ model: modelRef.current, prefix, suffix, maxTokens: 48 }, signal),
        onStatus: (next, detail) => setGhost({ status: next, ...(detail === undefined ? {} : { detail }) }),
      },
    });
    return () => {
      editor.current?.view.destroy();
      editor.current = undefined;
    };
  }, [setup.kind === "ready"]);

  const open = async (path: string): Promise<void> => {
    if (
      opened !== undefined &&
      text !== opened.content &&
      !confirm(`Discard the unsaved changes to ${opened.path}?`)
    )
      return;
    try {
      const file = await workspace.open(path);
      setOpened(file);
      setText(file.content);
      editor.current?.load(file.content);
      setAssist({ kind: "none" });
      setStatus(`Opened ${file.path}`);
    } catch (error) {
      setStatus(`Cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const save = async (content: string, baseSha256: string | null): Promise<void> => {
    if (opened === undefined) return;
    setStatus(`Saving ${opened.path}…`);
    try {
      const result = await workspace.save(opened.path, content, baseSha256);
      if (result.kind === "conflict") {
        const disk = await workspace.open(opened.path).catch(() => undefined);
        setStatus("Not saved: the file changed on disk since it was opened.");
        if (disk !== undefined) setAssist({ kind: "conflict", disk, mine: content, message: result.message });
        return;
      }
      setOpened({ ...opened, content, version: result.version });
      setStatus(`Saved ${opened.path}`);
      if (assist.kind === "conflict") setAssist({ kind: "none" });
    } catch (error) {
      setStatus(`Not saved: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  saveRef.current = () =>
    void save(editor.current?.view.state.doc.toString() ?? text, opened?.version.sha256 ?? null);

  const runAssist = async (
    request: { system: string; user: string },
    onText: (text: string) => void,
  ): Promise<{ text: string; error?: string }> => {
    assistRun.current?.abort();
    const controller = new AbortController();
    assistRun.current = controller;
    try {
      return { text: await workspace.chat({ model, ...request }, { signal: controller.signal, onText }) };
    } catch (error) {
      return {
        text: "",
        error: controller.signal.aborted
          ? "Stopped."
          : error instanceof Error
            ? error.message
            : String(error),
      };
    }
  };

  const explain = async (): Promise<void> => {
    const view = editor.current?.view;
    if (view === undefined || opened === undefined) return;
    const selection = selectionOf(view);
    setAssist({ kind: "explain", text: "", streaming: true });
    const result = await runAssist(
      { system: explainSystemPrompt, user: explainPrompt(opened.path, selection.text) },
      (partial) => setAssist({ kind: "explain", text: partial, streaming: true }),
    );
    setAssist((current) =>
      current.kind !== "explain"
        ? current
        : {
            kind: "explain",
            text: current.text,
            streaming: false,
            ...(result.error === undefined ? {} : { error: result.error }),
          },
    );
  };

  const propose = async (instruction: string): Promise<void> => {
    if (assist.kind !== "edit-ask" || opened === undefined) return;
    const base = { kind: "edit" as const, range: assist.range, original: assist.original, instruction };
    setAssist({ ...base, proposal: "", streaming: true });
    const result = await runAssist(
      { system: editSystemPrompt, user: editPrompt(opened.path, assist.original, instruction) },
      (partial) => setAssist({ ...base, proposal: codeOfAnswer(partial), streaming: true }),
    );
    setAssist({
      ...base,
      proposal: codeOfAnswer(result.text),
      streaming: false,
      ...(result.error === undefined ? {} : { error: result.error }),
    });
  };

  if (setup.kind === "loading") return <p class="muted">Opening the workspace…</p>;
  if (setup.kind === "missing")
    return (
      <section class="panel card" id="panel-workspace" aria-label="Workspace">
        <h2>Workspace</h2>
        <p class="notice">{setup.message}</p>
      </section>
    );
  if (setup.kind === "error") return <p class="error">{setup.message}</p>;
  const isDirty = opened !== undefined && text !== opened.content;
  return (
    <section class="panel workspace" id="panel-workspace" aria-labelledby="workspace-title">
      <div class="workspace-files card">
        <h2 id="workspace-title">{setup.name}</h2>
        <FileTree
          entries={setup.entries}
          truncated={setup.truncated}
          selected={opened?.path}
          onOpen={(path) => void open(path)}
        />
        <button type="button" onClick={() => void loadTree()}>
          Refresh
        </button>
      </div>
      <div class="workspace-editor">
        <div class="row workspace-toolbar">
          <span id="open-file">
            {opened === undefined ? "No file open" : `${opened.path}${isDirty ? " •" : ""}`}
          </span>
          <label for="workspace-model">Model</label>
          <select
            id="workspace-model"
            value={model}
            onChange={(event) => setModel(event.currentTarget.value)}
          >
            {models.map((entry) => (
              <option key={entry.name} value={entry.name}>
                {entry.canInsert ? entry.name : `${entry.name} (no FIM)`}
              </option>
            ))}
          </select>
          <button
            type="button"
            id="save-file"
            disabled={opened === undefined}
            onClick={() => saveRef.current()}
          >
            Save
          </button>
          <button
            type="button"
            id="explain-selection"
            disabled={!hasSelection || model === ""}
            onClick={() => void explain()}
          >
            Explain selection
          </button>
          <button
            type="button"
            id="edit-selection"
            disabled={!hasSelection || model === ""}
            onClick={() => {
              const view = editor.current?.view;
              if (view === undefined) return;
              const selection = selectionOf(view);
              setAssist({ kind: "edit-ask", range: selection, original: selection.text });
            }}
          >
            Edit selection…
          </button>
        </div>
        <div ref={host} class="editor-host" hidden={opened === undefined} />
        {opened === undefined && <p class="muted">Open a file from the list.</p>}
        <p class="row muted workspace-status">
          <span id="workspace-status" role="status">
            {status}
          </span>
          <span id="ghost-status">
            {ghost.status === "error"
              ? `${ghostLabels.error}: ${ghost.detail ?? ""}`
              : ghostLabels[ghost.status]}
          </span>
        </p>
      </div>
      <AssistPanel
        assist={assist}
        actions={{
          propose: (instruction) => void propose(instruction),
          accept: () => {
            const view = editor.current?.view;
            if (view !== undefined && assist.kind === "edit")
              replaceRange(view, assist.range, assist.proposal);
            setAssist({ kind: "none" });
          },
          close: () => {
            assistRun.current?.abort();
            setAssist({ kind: "none" });
          },
          stop: () => assistRun.current?.abort(),
          overwrite: () => {
            if (assist.kind === "conflict") void save(assist.mine, assist.disk.version.sha256);
          },
          reload: () => {
            if (assist.kind !== "conflict") return;
            setOpened(assist.disk);
            setText(assist.disk.content);
            editor.current?.load(assist.disk.content);
            setAssist({ kind: "none" });
            setStatus(`Reloaded ${assist.disk.path} from disk`);
          },
        }}
      />
    </section>
  );
}

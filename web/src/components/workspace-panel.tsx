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
import { WorkspaceApi, type ModelChoice, type OpenedFile, type TreeEntry } from "../workspace-api.js";
import { AssistPanel } from "./assist-panel.js";
import { useAssistant } from "./use-assistant.js";
import { WorkspaceFiles } from "./workspace-files.js";
import { WorkspaceToolbar } from "./workspace-toolbar.js";
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
  const assistant = useAssistant(workspace, model);
  const { assist, setAssist } = assistant;
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Editor | undefined>(undefined);
  const modelRef = useRef(model);
  modelRef.current = model;
  const saveRef = useRef<() => void>(() => undefined);

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

  /** Creates an empty file (base null: never over an existing one), lists and opens it. */
  const create = async (path: string): Promise<void> => {
    try {
      const result = await workspace.save(path, "", null);
      if (result.kind === "conflict") {
        setStatus(`Not created: ${result.message}`);
        return;
      }
      await loadTree();
      await open(path);
    } catch (error) {
      setStatus(`Not created: ${error instanceof Error ? error.message : String(error)}`);
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

  const explain = (): void => {
    const view = editor.current?.view;
    if (view !== undefined && opened !== undefined)
      void assistant.explain(opened.path, selectionOf(view).text);
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
      <WorkspaceFiles
        name={setup.name}
        entries={setup.entries}
        truncated={setup.truncated}
        selected={opened?.path}
        onOpen={(path) => void open(path)}
        onRefresh={() => void loadTree()}
        onCreate={create}
      />
      <div class="workspace-editor">
        <WorkspaceToolbar
          openPath={opened?.path}
          isDirty={isDirty}
          models={models}
          model={model}
          hasSelection={hasSelection}
          onModel={setModel}
          onSave={() => saveRef.current()}
          onExplain={explain}
          onEdit={() => {
            const view = editor.current?.view;
            if (view === undefined) return;
            const selection = selectionOf(view);
            setAssist({ kind: "edit-ask", range: selection, original: selection.text });
          }}
        />
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
          propose: (instruction) => {
            if (opened !== undefined) void assistant.propose(opened.path, instruction);
          },
          accept: () => {
            const view = editor.current?.view;
            if (view !== undefined && assist.kind === "edit")
              replaceRange(view, assist.range, assist.proposal);
            setAssist({ kind: "none" });
          },
          close: assistant.close,
          stop: assistant.stop,
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

/**
 * The Workspace panel's editor: CodeMirror 6 with line numbers, history, the default key bindings
 * (Tab indents when no ghost text is shown), Mod-s to save, and ghost-text completion.
 * Loaded only with the Workspace panel (a lazy chunk), never on the first page.
 *
 * The editor lives in a shadow root: CodeMirror injects its styles with a <style> element into a
 * document (which the server's CSP, style-src 'self', refuses) but as constructed stylesheets into
 * a shadow root, which CSP allows. Its look therefore comes from `editorTheme`, not styles.css.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { EditorState } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { ghostText, type GhostTextOptions } from "./ghost-text.js";

export interface EditorOptions {
  parent: HTMLElement;
  /** Called after every change of the text, with the whole text. */
  onChange: (text: string) => void;
  /** Mod-s. */
  onSave: () => void;
  /** Called when the selection changes: whether any text is selected. */
  onSelection: (hasSelection: boolean) => void;
  ghost: GhostTextOptions;
}

export interface Editor {
  view: EditorView;
  /** Shows a file's text with a fresh history (a file opened or reloaded): no completion starts. */
  load(text: string): void;
}

/** The page's colours (CSS custom properties cross the shadow boundary). */
const editorTheme = EditorView.theme({
  "&": { height: "100%", fontSize: "0.9rem", color: "var(--fg)", backgroundColor: "var(--card)" },
  "&.cm-focused": { outline: "2px solid var(--accent)" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" },
  ".cm-gutters": {
    backgroundColor: "var(--code)",
    color: "var(--muted)",
    borderRight: "1px solid var(--border)",
  },
  ".cm-activeLine, .cm-activeLineGutter": {
    backgroundColor: "color-mix(in srgb, var(--accent) 8%, transparent)",
  },
  ".cm-content": { caretColor: "var(--fg)" },
});

export function createEditor(options: EditorOptions): Editor {
  const root = options.parent.shadowRoot ?? options.parent.attachShadow({ mode: "open" });
  const extensions = [
    editorTheme,
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightActiveLine(),
    drawSelection(),
    history(),
    ghostText(options.ghost),
    keymap.of([
      {
        key: "Mod-s",
        preventDefault: true,
        run: () => {
          options.onSave();
          return true;
        },
      },
      ...defaultKeymap,
      ...historyKeymap,
      indentWithTab,
    ]),
    EditorView.contentAttributes.of({ "aria-label": "File contents", spellcheck: "false" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) options.onChange(update.state.doc.toString());
      if (update.selectionSet) options.onSelection(!update.state.selection.main.empty);
    }),
  ];
  const view = new EditorView({ root, parent: root, state: EditorState.create({ doc: "", extensions }) });
  return {
    view,
    load: (text) => view.setState(EditorState.create({ doc: text, extensions })),
  };
}

/** The selected text and its range (the main selection). */
export function selectionOf(view: EditorView): { from: number; to: number; text: string } {
  const { from, to } = view.state.selection.main;
  return { from, to, text: view.state.sliceDoc(from, to) };
}

/** Replaces a range (an accepted edit) as one undoable user change. */
export function replaceRange(view: EditorView, range: { from: number; to: number }, text: string): void {
  view.dispatch({
    changes: { from: range.from, to: range.to, insert: text },
    selection: { anchor: range.from, head: range.from + text.length },
    userEvent: "input.replace",
  });
}

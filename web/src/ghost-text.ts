/**
 * Inline ghost-text completion for CodeMirror 6: after a pause in typing, ask the model for the
 * text at the cursor (fill-in-the-middle) and show it greyed after the cursor; Tab accepts it,
 * Escape dismisses it, and any edit or cursor move drops it and aborts the request in flight.
 */
import { Prec, StateEffect, StateField, type EditorState, type Extension } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  keymap,
  ViewPlugin,
  WidgetType,
  type PluginValue,
  type ViewUpdate,
} from "@codemirror/view";

export interface Ghost {
  pos: number;
  text: string;
}

export type GhostStatus = "idle" | "waiting" | "shown" | "error";

export interface GhostTextOptions {
  /** The text between `prefix` and `suffix`; rejects (AbortError) when `signal` aborts. */
  complete: (context: { prefix: string; suffix: string }, signal: AbortSignal) => Promise<string>;
  /** Pause after the last keystroke before asking, in ms. */
  debounceMs: number;
  /** Characters of context before and after the cursor. */
  prefixChars?: number;
  suffixChars?: number;
  onStatus?: (status: GhostStatus, detail?: string) => void;
}

const setGhost = StateEffect.define<Ghost | null>();

const ghostTheme = EditorView.baseTheme({
  ".cm-ghost-text": { color: "var(--muted)", fontStyle: "italic" },
});

const ghostField = StateField.define<Ghost | null>({
  create: () => null,
  update(value, transaction) {
    for (const effect of transaction.effects) if (effect.is(setGhost)) return effect.value;
    return transaction.docChanged || transaction.selection !== undefined ? null : value;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (ghost) =>
      ghost === null
        ? Decoration.none
        : Decoration.set([
            Decoration.widget({ widget: new GhostWidget(ghost.text), side: 1 }).range(ghost.pos),
          ]),
    ),
});

class GhostWidget extends WidgetType {
  constructor(readonly text: string) {
    super();
  }

  override eq(other: GhostWidget): boolean {
    return other.text === this.text;
  }

  toDOM(): HTMLElement {
    const span = document.createElement("span");
    span.className = "cm-ghost-text";
    span.textContent = this.text;
    span.title = "Tab accepts, Escape dismisses";
    return span;
  }

  override ignoreEvent(): boolean {
    return true;
  }
}

/** The ghost shown now, if any. */
export function currentGhost(state: EditorState): Ghost | null {
  return state.field(ghostField, false) ?? null;
}

/** Inserts the ghost at its position and moves the cursor after it; false when there is none. */
export function acceptGhost(view: EditorView): boolean {
  const ghost = currentGhost(view.state);
  if (ghost === null) return false;
  view.dispatch({
    changes: { from: ghost.pos, insert: ghost.text },
    selection: { anchor: ghost.pos + ghost.text.length },
    userEvent: "input.complete",
  });
  return true;
}

export function ghostText(options: GhostTextOptions): Extension {
  const prefixChars = options.prefixChars ?? 8000;
  const suffixChars = options.suffixChars ?? 2000;
  const plugin = ViewPlugin.fromClass(
    class implements PluginValue {
      timer: number | undefined;
      controller: AbortController | undefined;

      constructor(readonly view: EditorView) {}

      update(update: ViewUpdate): void {
        const typed = update.transactions.some(
          (transaction) => transaction.isUserEvent("input") || transaction.isUserEvent("delete"),
        );
        if (!update.docChanged && !update.selectionSet) return;
        // Typing (or moving the cursor) cancels the completion in flight at once.
        this.cancel();
        if (typed) this.timer = window.setTimeout(() => void this.request(), options.debounceMs);
      }

      cancel(): void {
        if (this.timer !== undefined) window.clearTimeout(this.timer);
        this.timer = undefined;
        if (this.controller !== undefined) {
          this.controller.abort();
          this.controller = undefined;
          options.onStatus?.("idle");
        }
      }

      async request(): Promise<void> {
        this.timer = undefined;
        const state = this.view.state;
        const selection = state.selection.main;
        if (!selection.empty) return;
        const pos = selection.head;
        const controller = new AbortController();
        this.controller = controller;
        options.onStatus?.("waiting");
        try {
          const text = await options.complete(
            {
              prefix: state.doc.sliceString(Math.max(0, pos - prefixChars), pos),
              suffix: state.doc.sliceString(pos, Math.min(state.doc.length, pos + suffixChars)),
            },
            controller.signal,
          );
          if (controller.signal.aborted || this.view.state.doc !== state.doc) return;
          this.controller = undefined;
          if (text.trim() === "") {
            options.onStatus?.("idle");
            return;
          }
          this.view.dispatch({ effects: setGhost.of({ pos, text }) });
          options.onStatus?.("shown");
        } catch (error) {
          if (controller.signal.aborted) return;
          this.controller = undefined;
          options.onStatus?.("error", error instanceof Error ? error.message : String(error));
        }
      }

      destroy(): void {
        this.cancel();
      }
    },
  );
  const dismiss = (view: EditorView): boolean => {
    if (currentGhost(view.state) === null) return false;
    view.dispatch({ effects: setGhost.of(null) });
    return true;
  };
  return [
    ghostTheme,
    ghostField,
    plugin,
    Prec.highest(
      keymap.of([
        { key: "Tab", run: acceptGhost },
        { key: "Escape", run: dismiss },
      ]),
    ),
  ];
}

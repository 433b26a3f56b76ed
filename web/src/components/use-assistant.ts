/**
 * The side panel's model calls: "explain" streams a chat answer into the panel; "edit" streams the
 * proposal (the answer's code block) and ends with a diff to accept or reject. One at a time: a new
 * one, Stop or Close aborts the one running.
 */
import { useRef, useState } from "preact/hooks";
import {
  codeOfAnswer,
  editPrompt,
  editSystemPrompt,
  explainPrompt,
  explainSystemPrompt,
  type WorkspaceApi,
} from "../workspace-api.js";
import type { Assist } from "./assist-panel.js";

export function useAssistant(workspace: WorkspaceApi, model: string) {
  const [assist, setAssist] = useState<Assist>({ kind: "none" });
  const running = useRef<AbortController | undefined>(undefined);

  const run = async (
    request: { system: string; user: string },
    onText: (text: string) => void,
  ): Promise<{ text: string; error?: string }> => {
    running.current?.abort();
    const controller = new AbortController();
    running.current = controller;
    try {
      return { text: await workspace.chat({ model, ...request }, { signal: controller.signal, onText }) };
    } catch (error) {
      if (controller.signal.aborted) return { text: "", error: "Stopped." };
      return { text: "", error: error instanceof Error ? error.message : String(error) };
    }
  };

  const explain = async (path: string, selection: string): Promise<void> => {
    setAssist({ kind: "explain", text: "", streaming: true });
    const result = await run(
      { system: explainSystemPrompt, user: explainPrompt(path, selection) },
      (partial) => setAssist({ kind: "explain", text: partial, streaming: true }),
    );
    setAssist((current) =>
      current.kind !== "explain"
        ? current
        : { ...current, streaming: false, ...(result.error === undefined ? {} : { error: result.error }) },
    );
  };

  const propose = async (path: string, instruction: string): Promise<void> => {
    if (assist.kind !== "edit-ask") return;
    const base = { kind: "edit" as const, range: assist.range, original: assist.original, instruction };
    setAssist({ ...base, proposal: "", streaming: true });
    const result = await run(
      { system: editSystemPrompt, user: editPrompt(path, assist.original, instruction) },
      (partial) => setAssist({ ...base, proposal: codeOfAnswer(partial), streaming: true }),
    );
    setAssist({
      ...base,
      proposal: codeOfAnswer(result.text),
      streaming: false,
      ...(result.error === undefined ? {} : { error: result.error }),
    });
  };

  return {
    assist,
    setAssist,
    explain,
    propose,
    stop: () => running.current?.abort(),
    close: () => {
      running.current?.abort();
      setAssist({ kind: "none" });
    },
  };
}

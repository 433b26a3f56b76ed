/**
 * Chat playground: streams /v1/chat/completions (SSE) token by token; Stop aborts the stream and
 * cancels the request on the server (DELETE /v1/requests/{id}); conversations live in IndexedDB.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { errorMessageOf, newRequestId, type Api } from "../api.js";
import {
  appendDelta,
  chatRequestBody,
  FiguresMeter,
  finishAnswer,
  isStreaming,
  lastUserTurn,
  newConversation,
  startAnswer,
  truncateBefore,
  type Conversation,
} from "../chat-state.js";
import { deleteConversation, loadConversations, saveConversation } from "../conversations-db.js";
import { parseChatChunk, SseReader } from "../sse.js";
import { ChatMessages } from "./chat-messages.js";
import { ChatSettings } from "./chat-settings.js";

export function ChatPanel(props: { api: Api; active: boolean }) {
  const { api } = props;
  const [models, setModels] = useState<string[]>([]);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [current, setCurrent] = useState<Conversation | undefined>(undefined);
  const [draft, setDraft] = useState("");
  const [editIndex, setEditIndex] = useState<number | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const stream = useRef<{ controller: AbortController; requestId: string } | undefined>(undefined);
  const latest = useRef<Conversation | undefined>(undefined);
  latest.current = current;

  useEffect(() => {
    void (async () => {
      const list = await api.get<{ data: { id: string }[] }>("/v1/models").catch(() => ({ data: [] }));
      const names = list.data.map((model) => model.id);
      setModels(names);
      const stored = await loadConversations().catch(() => []);
      setConversations(stored);
      setCurrent(
        stored[0] ?? newConversation({ id: crypto.randomUUID(), model: names[0] ?? "", now: Date.now() }),
      );
    })();
  }, [api]);

  const update = (next: Conversation, persist: boolean): void => {
    latest.current = next;
    setCurrent(next);
    if (!persist) return;
    void saveConversation(next).catch(() => undefined);
    setConversations((list) => [next, ...list.filter((item) => item.id !== next.id)]);
  };

  const stop = async (): Promise<void> => {
    const running = stream.current;
    if (running === undefined) return;
    running.controller.abort();
    // The abort closes the connection; the DELETE makes the cancellation explicit and immediate.
    await api.delete(`/v1/requests/${encodeURIComponent(running.requestId)}`).catch(() => undefined);
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape" && stream.current !== undefined) {
        event.preventDefault();
        void stop();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const send = async (text: string, base: Conversation): Promise<void> => {
    if (text.trim() === "" || base.model === "" || isStreaming(base)) return;
    setError(undefined);
    const requestId = newRequestId();
    let conversation = startAnswer(base, { text, requestId, now: Date.now() });
    update(conversation, true);
    const controller = new AbortController();
    stream.current = { controller, requestId };
    const meter = new FiguresMeter(performance.now());
    let state: "done" | "stopped" | "error" = "done";
    let failure: string | undefined;
    try {
      const response = await fetch("/v1/chat/completions", {
        method: "POST",
        headers: api.headers({ "Content-Type": "application/json", "X-Request-Id": requestId }),
        body: JSON.stringify(chatRequestBody(conversation)),
        signal: controller.signal,
      });
      if (!response.ok || response.body === null) throw new Error(await errorMessageOf(response));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const sse = new SseReader();
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        for (const data of sse.push(chunk.value)) {
          const parsed = parseChatChunk(data);
          if (parsed === undefined) continue;
          if (parsed.error !== undefined) throw new Error(parsed.error);
          if (parsed.usage !== undefined) meter.onUsage(parsed.usage);
          if (parsed.finishReason === "cancelled") state = "stopped";
          meter.onDelta(performance.now(), parsed.delta);
          conversation = appendDelta(conversation, parsed.delta);
          update(conversation, false);
        }
      }
    } catch (caught) {
      if (controller.signal.aborted) state = "stopped";
      else {
        state = "error";
        failure = caught instanceof Error ? caught.message : String(caught);
        setError(failure);
      }
    } finally {
      stream.current = undefined;
    }
    conversation = finishAnswer(conversation, {
      state,
      figures: meter.figures(performance.now()),
      ...(failure === undefined ? {} : { error: failure }),
      now: Date.now(),
    });
    update(conversation, true);
  };

  const submit = (): void => {
    if (current === undefined) return;
    const base = editIndex === undefined ? current : truncateBefore(current, editIndex);
    const text = draft;
    setDraft("");
    setEditIndex(undefined);
    void send(text, base);
  };

  const regenerate = (): void => {
    if (current === undefined) return;
    const turn = lastUserTurn(current);
    if (turn !== undefined) void send(turn.text, truncateBefore(current, turn.index));
  };

  const startNew = (): void =>
    update(
      newConversation({ id: crypto.randomUUID(), model: current?.model ?? models[0] ?? "", now: Date.now() }),
      false,
    );

  const clear = async (): Promise<void> => {
    if (current === undefined) return;
    await deleteConversation(current.id).catch(() => undefined);
    setConversations((list) => list.filter((item) => item.id !== current.id));
    startNew();
  };

  const streaming = current !== undefined && isStreaming(current);
  return (
    <section aria-labelledby="chat-title" class="panel chat" id="panel-chat">
      <h2 id="chat-title" class="visually-hidden">
        Chat
      </h2>
      <nav class="conversations" aria-label="Conversations">
        <button type="button" onClick={startNew} disabled={streaming}>
          New conversation
        </button>
        <ul>
          {conversations.map((item) => (
            <li key={item.id}>
              <button
                type="button"
                class="link"
                aria-current={item.id === current?.id ? "true" : undefined}
                disabled={streaming}
                onClick={() => setCurrent(item)}
              >
                {item.title}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div class="conversation">
        {current !== undefined && (
          <ChatSettings
            conversation={current}
            models={models}
            disabled={streaming}
            onChange={(next) => update(next, next.messages.length > 0)}
          />
        )}
        {current !== undefined && (
          <ChatMessages
            conversation={current}
            streaming={streaming}
            onEdit={(index, text) => {
              setEditIndex(index);
              setDraft(text);
            }}
            onRegenerate={regenerate}
          />
        )}
        {error !== undefined && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <form
          class="composer"
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <label for="prompt">{editIndex === undefined ? "Message" : "Edit message and resend"}</label>
          <textarea
            id="prompt"
            rows={3}
            value={draft}
            placeholder="Write a message. Enter sends, Shift+Enter adds a line, Escape stops."
            onInput={(event) => setDraft(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                submit();
              }
            }}
          />
          <div class="row">
            <button
              type="submit"
              id="send"
              disabled={streaming || draft.trim() === "" || current?.model === ""}
            >
              Send
            </button>
            <button type="button" id="stop" disabled={!streaming} onClick={() => void stop()}>
              Stop
            </button>
            <button type="button" id="clear" disabled={streaming} onClick={() => void clear()}>
              Clear conversation
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

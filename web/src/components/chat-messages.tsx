/** The messages of one conversation: Markdown answers (sanitised), figures, copy / edit / regenerate. */
import type { Conversation, ChatMessage } from "../chat-state.js";
import { formatCount, formatMs } from "../format.js";
import { renderMarkdown } from "../markdown.js";

export function ChatMessages(props: {
  conversation: Conversation;
  streaming: boolean;
  onEdit: (index: number, text: string) => void;
  onRegenerate: () => void;
}) {
  const { messages } = props.conversation;
  return (
    <ol class="messages" aria-label="Messages" aria-live="polite" aria-busy={props.streaming}>
      {messages.map((message, index) => (
        <li
          key={index}
          class={`message ${message.role} ${message.state}`}
          data-state={message.state}
          data-request-id={message.requestId}
        >
          <div class="who">{message.role === "user" ? "You" : props.conversation.model}</div>
          {message.role === "assistant" ? (
            // Sanitised HTML: markdown-it with html off, then DOMPurify (markdown.ts).
            <div class="answer" dangerouslySetInnerHTML={{ __html: renderMarkdown(message.content) }} />
          ) : (
            <div class="question">{message.content}</div>
          )}
          {message.role === "assistant" && <Figures message={message} />}
          <div class="message-actions">
            <button
              type="button"
              class="link"
              onClick={() => void navigator.clipboard?.writeText(message.content)}
            >
              Copy
            </button>
            {message.role === "user" && !props.streaming && (
              <button type="button" class="link" onClick={() => props.onEdit(index, message.content)}>
                Edit
              </button>
            )}
            {message.role === "assistant" && index === messages.length - 1 && !props.streaming && (
              <button type="button" class="link" onClick={props.onRegenerate}>
                Regenerate
              </button>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Figures(props: { message: ChatMessage }) {
  const { message } = props;
  if (message.state === "streaming") return <p class="figures muted">Generating…</p>;
  const figures = message.figures;
  const status =
    message.state === "stopped"
      ? "Stopped. "
      : message.state === "error"
        ? `Failed: ${message.error ?? ""}. `
        : "";
  if (figures === undefined) return <p class="figures muted">{status}</p>;
  return (
    <p class="figures muted">
      {status}
      First token {formatMs(figures.timeToFirstTokenMs)} · {formatCount(figures.tokensPerSecond)} tokens/s ·
      prompt {formatCount(figures.promptTokens, 0)} (cached {formatCount(figures.cachedTokens, 0)}) ·
      generated {formatCount(figures.completionTokens, 0)} · total {formatMs(figures.totalMs)}
    </p>
  );
}

/** Model, system prompt and sampling parameters of one conversation. */
import type { ChatParameters, Conversation, Priority } from "../chat-state.js";

export function ChatSettings(props: {
  conversation: Conversation;
  models: string[];
  disabled: boolean;
  onChange: (next: Conversation) => void;
}) {
  const { conversation, disabled } = props;
  const { parameters } = conversation;
  const set = (change: Partial<ChatParameters>): void =>
    props.onChange({ ...conversation, parameters: { ...parameters, ...change } });
  const number = (value: string, fallback: number): number =>
    value.trim() === "" || Number.isNaN(Number(value)) ? fallback : Number(value);
  return (
    <details class="settings" open>
      <summary>Model and parameters</summary>
      <div class="settings-grid">
        <label>
          Model
          <select
            id="chat-model"
            value={conversation.model}
            disabled={disabled}
            onChange={(event) => props.onChange({ ...conversation, model: event.currentTarget.value })}
          >
            {props.models.length === 0 && <option value="">No model available</option>}
            {props.models.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Temperature
          <input
            type="number"
            step="0.1"
            min="0"
            max="2"
            value={parameters.temperature}
            disabled={disabled}
            onChange={(event) => set({ temperature: number(event.currentTarget.value, 0.8) })}
          />
        </label>
        <label>
          top_p
          <input
            type="number"
            step="0.05"
            min="0"
            max="1"
            value={parameters.topP}
            disabled={disabled}
            onChange={(event) => set({ topP: number(event.currentTarget.value, 0.95) })}
          />
        </label>
        <label>
          top_k
          <input
            type="number"
            step="1"
            min="0"
            value={parameters.topK}
            disabled={disabled}
            onChange={(event) => set({ topK: number(event.currentTarget.value, 40) })}
          />
        </label>
        <label>
          Max tokens
          <input
            id="max-tokens"
            type="number"
            step="1"
            min="1"
            value={parameters.maxTokens}
            disabled={disabled}
            onChange={(event) => set({ maxTokens: number(event.currentTarget.value, 256) })}
          />
        </label>
        <label>
          Seed
          <input
            type="number"
            step="1"
            value={parameters.seed ?? ""}
            id="seed"
            placeholder="random"
            disabled={disabled}
            onChange={(event) =>
              set({
                seed:
                  event.currentTarget.value.trim() === "" ? undefined : number(event.currentTarget.value, 0),
              })
            }
          />
        </label>
        <label>
          Priority
          <select
            value={parameters.priority}
            disabled={disabled}
            onChange={(event) => set({ priority: event.currentTarget.value as Priority })}
          >
            <option value="high">high</option>
            <option value="normal">normal</option>
            <option value="low">low</option>
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={parameters.jsonMode}
            disabled={disabled}
            onChange={(event) => set({ jsonMode: event.currentTarget.checked })}
          />
          JSON mode
        </label>
      </div>
      <label class="system">
        System prompt
        <textarea
          rows={2}
          value={conversation.system}
          disabled={disabled}
          onInput={(event) => props.onChange({ ...conversation, system: event.currentTarget.value })}
        />
      </label>
    </details>
  );
}

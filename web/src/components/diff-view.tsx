/** A line diff as a table: removed lines red with "−", added ones green with "+". */
import type { DiffLine } from "../line-diff.js";

const marks = { same: " ", added: "+", removed: "−" } as const;

export function DiffView(props: { lines: readonly DiffLine[]; label: string }) {
  return (
    <pre class="diff" aria-label={props.label}>
      {props.lines.map((line, index) => (
        <div key={index} class={`diff-${line.kind}`}>
          <span class="diff-mark" aria-hidden="true">
            {marks[line.kind]}
          </span>
          {line.text === "" ? " " : line.text}
        </div>
      ))}
    </pre>
  );
}

/** Plain rendering of whatever JSON a route answers (for panels whose component lands later). */
import type { JSX } from "preact";

function cell(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return JSON.stringify(value) ?? "–";
}

export function JsonView(props: { value: unknown; caption?: string }): JSX.Element {
  const { value } = props;
  const rows = Array.isArray(value) ? (value as unknown[]) : undefined;
  if (rows !== undefined) {
    if (rows.length === 0) return <p class="muted">None.</p>;
    const columns = [
      ...new Set(
        rows.flatMap((row) => (row !== null && typeof row === "object" ? Object.keys(row) : ["value"])),
      ),
    ];
    return (
      <div class="table-wrap" tabIndex={0}>
        <table>
          {props.caption !== undefined && <caption>{props.caption}</caption>}
          <thead>
            <tr>
              {columns.map((column) => (
                <th scope="col" key={column}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index}>
                {columns.map((column) => (
                  <td key={column}>
                    {cell(
                      row !== null && typeof row === "object"
                        ? (row as Record<string, unknown>)[column]
                        : row,
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    // A body such as { data: [...] } or { backups: [...] }: show the list as a table.
    const list = entries.find(([, item]) => Array.isArray(item));
    return (
      <div>
        <div class="table-wrap" tabIndex={0}>
          <table class="kv">
            {props.caption !== undefined && <caption>{props.caption}</caption>}
            <tbody>
              {entries
                .filter(([, item]) => !Array.isArray(item))
                .map(([key, item]) => (
                  <tr key={key}>
                    <th scope="row">{key}</th>
                    <td>{cell(item)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
        {list !== undefined && <JsonView value={list[1]} caption={list[0]} />}
      </div>
    );
  }
  return <p>{cell(value)}</p>;
}

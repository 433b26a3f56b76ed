/** The audit trail: filter, page, and run verify (GET /v1/audit, /v1/audit/verify). */
import { useState } from "preact/hooks";
import type { Api } from "../api.js";
import { settle, type RouteState } from "../route-state.js";
import { JsonView } from "./json-view.js";

interface AuditRecordWire {
  seq: number;
  time: string;
  type: string;
  action: string;
  outcome: string;
  keyId: string | null;
  requestId: string | null;
  object: unknown;
}

const pageSize = 20;

export function AuditSection(props: { api: Api }) {
  const [type, setType] = useState("");
  const [key, setKey] = useState("");
  const [since, setSince] = useState("1h");
  const [pages, setPages] = useState<number[]>([0]);
  const [records, setRecords] =
    useState<RouteState<{ records: AuditRecordWire[]; next_after: number | null }>>();
  const [verdict, setVerdict] = useState<RouteState<unknown>>();

  const load = async (after: number): Promise<void> => {
    const query = new URLSearchParams({ limit: String(pageSize), after: String(after) });
    if (type.trim() !== "") query.set("type", type.trim());
    if (key.trim() !== "") query.set("key", key.trim());
    if (since.trim() !== "") query.set("since", since.trim());
    setRecords(await settle(() => props.api.get(`/v1/audit?${query.toString()}`)));
  };
  const page = pages.at(-1) ?? 0;

  return (
    <div class="card" id="audit">
      <h3>Audit trail</h3>
      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          setPages([0]);
          void load(0);
        }}
      >
        <label>
          Type{" "}
          <input
            value={type}
            onInput={(event) => setType(event.currentTarget.value)}
            placeholder="inference,auth"
          />
        </label>
        <label>
          Key{" "}
          <input value={key} onInput={(event) => setKey(event.currentTarget.value)} placeholder="key id" />
        </label>
        <label>
          Since{" "}
          <input value={since} onInput={(event) => setSince(event.currentTarget.value)} placeholder="1h" />
        </label>
        <button type="submit">Show</button>
        <button
          type="button"
          id="audit-verify"
          onClick={() => void settle(() => props.api.get("/v1/audit/verify")).then(setVerdict)}
        >
          Verify
        </button>
      </form>
      {verdict?.kind === "ok" && (
        <div id="audit-verdict" role="status">
          <JsonView value={verdict.value} caption="Verify verdict" />
        </div>
      )}
      {records?.kind === "missing" && <p class="notice">The audit log is off on this server (--no-audit).</p>}
      {(records?.kind === "error" || verdict?.kind === "error") && (
        <p role="alert" class="error">
          {records?.kind === "error" ? records.message : verdict?.kind === "error" ? verdict.message : ""}
        </p>
      )}
      {records?.kind === "ok" && (
        <>
          <JsonView
            value={records.value.records.map((record) => ({
              seq: record.seq,
              time: record.time,
              type: record.type,
              action: record.action,
              outcome: record.outcome,
              key: record.keyId,
              request: record.requestId,
            }))}
            caption="Audit records"
          />
          <div class="row">
            <button
              type="button"
              disabled={pages.length < 2}
              onClick={() => {
                const previous = pages.slice(0, -1);
                setPages(previous);
                void load(previous.at(-1) ?? 0);
              }}
            >
              Previous page
            </button>
            <button
              type="button"
              disabled={records.value.next_after === null}
              onClick={() => {
                const next = records.value.next_after ?? page;
                setPages([...pages, next]);
                void load(next);
              }}
            >
              Next page
            </button>
          </div>
        </>
      )}
    </div>
  );
}

/**
 * SLA and backups: their components are being built. A 404 says plainly which component the
 * panel waits for (never fake data); once the routes answer, their JSON shows as tables.
 */
import { useState } from "preact/hooks";
import type { Api } from "../api.js";
import { usePoll } from "../hooks.js";
import { settle, type RouteState } from "../route-state.js";
import { JsonView } from "./json-view.js";

function monthNow(): string {
  return new Date(Date.now()).toISOString().slice(0, 7);
}

export function PendingSections(props: { api: Api; active: boolean }) {
  const { api } = props;
  const [status, setStatus] = useState<RouteState<unknown>>({ kind: "loading" });
  const [incidents, setIncidents] = useState<RouteState<unknown>>({ kind: "loading" });
  const [report, setReport] = useState<RouteState<unknown>>({ kind: "loading" });
  const [backups, setBackups] = useState<RouteState<unknown>>({ kind: "loading" });
  const [backupNotice, setBackupNotice] = useState<RouteState<unknown> | undefined>(undefined);
  const [backupId, setBackupId] = useState("");

  usePoll(
    async () => {
      const [statusNow, incidentsNow, reportNow, backupsNow] = await Promise.all([
        settle(() => api.get("/v1/sla/status")),
        settle(() => api.get("/v1/sla/incidents")),
        settle(() => api.get(`/v1/sla/report?month=${monthNow()}`)),
        settle(() => api.get("/v1/backups")),
      ]);
      setStatus(statusNow);
      setIncidents(incidentsNow);
      setReport(reportNow);
      setBackups(backupsNow);
    },
    15_000,
    props.active,
  );

  const slaMissing = status.kind === "missing";
  return (
    <>
      <div class="card" id="sla">
        <h3>SLA</h3>
        {slaMissing ? (
          <p class="pending">Waits for the SLAManager: this server has no /v1/sla routes yet.</p>
        ) : (
          <>
            <Route state={status} caption="Status" />
            <Route state={incidents} caption="Incidents" />
            <Route state={report} caption={`Report ${monthNow()}`} />
          </>
        )}
      </div>
      <div class="card" id="backups">
        <h3>Backups</h3>
        {backups.kind === "missing" ? (
          <p class="pending">Waits for the BackupManager: this server has no /v1/backups routes yet.</p>
        ) : (
          <>
            <Route state={backups} caption="Backups" />
            <div class="row">
              <button
                type="button"
                onClick={() => void settle(() => api.post("/v1/backups")).then(setBackupNotice)}
              >
                Create backup
              </button>
              <label>
                Backup id{" "}
                <input value={backupId} onInput={(event) => setBackupId(event.currentTarget.value)} />
              </label>
              <button
                type="button"
                disabled={backupId.trim() === ""}
                onClick={() =>
                  void settle(() =>
                    api.post(`/v1/backups/${encodeURIComponent(backupId.trim())}/verify`),
                  ).then(setBackupNotice)
                }
              >
                Verify backup
              </button>
            </div>
            {backupNotice !== undefined && <Route state={backupNotice} caption="Result" />}
          </>
        )}
      </div>
    </>
  );
}

function Route(props: { state: RouteState<unknown>; caption: string }) {
  const { state } = props;
  switch (state.kind) {
    case "loading":
      return <p class="muted">Reading {props.caption.toLowerCase()}…</p>;
    case "missing":
      return <p class="pending">{props.caption}: route not there yet.</p>;
    case "error":
      return (
        <p role="alert" class="error">
          {props.caption}: {state.message}
        </p>
      );
    case "ok":
      return <JsonView value={state.value} caption={props.caption} />;
  }
}

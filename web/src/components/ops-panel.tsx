/**
 * Operations dashboard: uPlot charts polled every few seconds (time to first token and tokens/s
 * p50/p95/p99 per model, requests by outcome, queue depth per priority, runner memory), the queue
 * with cancel, the GPU / memory report, performance warnings, recent requests, audit, SLA, backups.
 */
import { useRef, useState } from "preact/hooks";
import type { Api } from "../api.js";
import { formatBytes, formatCount, formatMs } from "../format.js";
import { usePoll } from "../hooks.js";
import { settle, type RouteState } from "../route-state.js";
import {
  memorySample,
  outcomeSample,
  percentileSample,
  queueSample,
  SeriesWindow,
  type MetricsWire,
  type PsWire,
  type QueueWire,
} from "../series.js";
import { clusterNodesOf } from "../cluster-nodes.js";
import { AuditSection } from "./audit-section.js";
import { Chart } from "./chart.js";
import { JsonView } from "./json-view.js";
import { NodesPanel } from "./nodes-panel.js";
import { PendingSections } from "./pending-sections.js";
import { QueueTable, type QueueRequestWire } from "./queue-table.js";

const pollMs = 3000;
const gpuPollMs = 30_000;
const points = 100;

interface WarningWire {
  id: string;
  rule: string;
  model: string | null;
  message: string;
  started_at: string;
}
interface RequestLogWire {
  request_id: string;
  ended_at: string;
  model: string;
  priority: string;
  outcome: string;
  time_to_first_token_ms: number | null;
  decode_tokens_per_second: number | null;
  completion_tokens: number | null;
}
interface GpuWire {
  chosen: string;
  reason: string;
  devices: { backend: string; name: string; total_bytes: number | null; free_bytes: number | null }[];
  memory: { host: { total_bytes: number; available_bytes: number } };
}

export function OpsPanel(props: { api: Api; active: boolean }) {
  const { api } = props;
  const charts = useRef({
    ttft: new SeriesWindow(points),
    tps: new SeriesWindow(points),
    outcomes: new SeriesWindow(points),
    queue: new SeriesWindow(points),
    memory: new SeriesWindow(points),
  }).current;
  const [version, setVersion] = useState(0);
  const [metricsState, setMetricsState] = useState<RouteState<MetricsWire>>({ kind: "loading" });
  const [queue, setQueue] = useState<
    (QueueWire & { requests?: QueueRequestWire[]; queued: number }) | undefined
  >();
  const [warnings, setWarnings] = useState<WarningWire[]>([]);
  const [log, setLog] = useState<RequestLogWire[]>([]);
  const [gpu, setGpu] = useState<RouteState<GpuWire>>({ kind: "loading" });
  const [notice, setNotice] = useState<string | undefined>(undefined);

  usePoll(
    async () => {
      const [metrics, queueNow, ps, warningsNow, logNow] = await Promise.all([
        settle(() => api.get<MetricsWire>("/v1/metrics?window=1m")),
        settle(() => api.get<QueueWire & { requests?: QueueRequestWire[]; queued: number }>("/v1/queue")),
        settle(() => api.get<PsWire>("/api/ps")),
        settle(() => api.get<{ active: WarningWire[] }>("/v1/metrics/warnings")),
        settle(() => api.get<{ requests: RequestLogWire[] }>("/v1/metrics/requests?limit=10")),
      ]);
      const nowSeconds = Date.now() / 1000;
      setMetricsState(metrics);
      if (metrics.kind === "ok") {
        charts.ttft.add(nowSeconds, percentileSample(metrics.value, "time_to_first_token_ms"));
        charts.tps.add(nowSeconds, percentileSample(metrics.value, "decode_tokens_per_second"));
        charts.outcomes.add(nowSeconds, outcomeSample(metrics.value));
      }
      if (queueNow.kind === "ok") {
        setQueue(queueNow.value);
        charts.queue.add(nowSeconds, queueSample(queueNow.value));
      }
      if (ps.kind === "ok") charts.memory.add(nowSeconds, memorySample(ps.value));
      if (warningsNow.kind === "ok") setWarnings(warningsNow.value.active);
      if (logNow.kind === "ok") setLog(logNow.value.requests);
      setVersion((value) => value + 1);
    },
    pollMs,
    props.active,
  );

  // Detection probes the hardware (driver tools): refreshed less often than the metrics.
  usePoll(async () => setGpu(await settle(() => api.get<GpuWire>("/v1/gpu"))), gpuPollMs, props.active);

  const cancel = async (id: string): Promise<void> => {
    try {
      await api.delete(`/v1/requests/${encodeURIComponent(id)}`);
      setNotice(`Request ${id} cancelled.`);
    } catch (failure) {
      setNotice(`Could not cancel ${id}: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
  };

  // Only a clustered server's /v1/queue has `nodes`: without it the page is unchanged.
  const clusterNodes = clusterNodesOf(queue);
  return (
    <section aria-labelledby="ops-title" class="panel" id="panel-operations">
      <h2 id="ops-title">Operations</h2>
      {metricsState.kind === "missing" && (
        <p class="notice">Metrics are off on this server (--no-metrics).</p>
      )}
      {metricsState.kind === "error" && (
        <p role="alert" class="error">
          Metrics: {metricsState.message}
        </p>
      )}
      {notice !== undefined && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <div class="charts">
        <Chart
          id="chart-ttft"
          title="Time to first token, p50/p95/p99 per model"
          unit="ms"
          window={charts.ttft}
          version={version}
        />
        <Chart
          id="chart-tps"
          title="Decode tokens/s, p50/p95/p99 per model"
          unit="tokens/s"
          window={charts.tps}
          version={version}
        />
        <Chart
          id="chart-outcomes"
          title="Requests by outcome (last minute)"
          unit="requests"
          window={charts.outcomes}
          version={version}
        />
        <Chart
          id="chart-queue"
          title="Queue depth per priority"
          unit="requests"
          window={charts.queue}
          version={version}
        />
        <Chart
          id="chart-memory"
          title="Runner memory per model"
          unit="MiB"
          window={charts.memory}
          version={version}
        />
      </div>
      <h3>Queue</h3>
      <p>
        {queue === undefined ? "–" : `${queue.queued} queued`}
        {queue?.models.map((model) => ` · ${model.model}`).join("")}
      </p>
      <QueueTable requests={queue?.requests ?? []} onCancel={(id) => void cancel(id)} />
      {clusterNodes !== undefined && <NodesPanel api={api} nodes={clusterNodes} active={props.active} />}
      <h3>Performance warnings</h3>
      {warnings.length === 0 ? (
        <p class="muted" id="warnings">
          No active warning.
        </p>
      ) : (
        <ul id="warnings" role="alert">
          {warnings.map((warning) => (
            <li key={warning.id}>
              <strong>{warning.rule}</strong> {warning.model ?? ""}: {warning.message}
            </li>
          ))}
        </ul>
      )}
      <h3>Recent requests</h3>
      <div class="table-wrap" tabIndex={0}>
        <table id="request-log">
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Model</th>
              <th scope="col">Outcome</th>
              <th scope="col">First token</th>
              <th scope="col">Tokens/s</th>
              <th scope="col">Generated</th>
            </tr>
          </thead>
          <tbody>
            {log.map((entry) => (
              <tr key={entry.request_id} data-request={entry.request_id} data-outcome={entry.outcome}>
                <td>{entry.request_id}</td>
                <td>{entry.model}</td>
                <td>{entry.outcome}</td>
                <td>{formatMs(entry.time_to_first_token_ms)}</td>
                <td>{formatCount(entry.decode_tokens_per_second)}</td>
                <td>{formatCount(entry.completion_tokens, 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>GPU and memory</h3>
      {gpu.kind === "ok" ? (
        <div id="gpu-report">
          <p>
            Backend <strong>{gpu.value.chosen}</strong>: {gpu.value.reason}
          </p>
          <p>
            Host memory: {formatBytes(gpu.value.memory.host.available_bytes)} free of{" "}
            {formatBytes(gpu.value.memory.host.total_bytes)}
          </p>
          {gpu.value.devices.length > 0 && <JsonView value={gpu.value.devices} caption="Devices" />}
        </div>
      ) : (
        <p class="muted">{gpu.kind === "error" ? gpu.message : "Reading the GPU report…"}</p>
      )}
      <AuditSection api={api} />
      <PendingSections api={api} active={props.active} />
    </section>
  );
}

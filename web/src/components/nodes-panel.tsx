/**
 * The Nodes panel (issue #18 item 5): shown on the Operations page only when GET /v1/queue has
 * `nodes` (the server runs clustered). Per node: id, host, accepting, heartbeat age, memory and
 * its models (state, sequences active/total, queued per priority); per model: which nodes hold
 * it. With the SLA's `cluster` section (GET /v1/sla/status), each node's SLA state too.
 */
import { useState } from "preact/hooks";
import type { Api } from "../api.js";
import {
  clusterSlaOf,
  modelHolders,
  nodeRows,
  type ClusterSlaView,
  type NodeWire,
} from "../cluster-nodes.js";
import { usePoll } from "../hooks.js";
import { settle } from "../route-state.js";

const slaPollMs = 15_000;

const queuedText = (queued: { high: number; normal: number; low: number }): string =>
  `${queued.high} / ${queued.normal} / ${queued.low}`;

export function NodesPanel(props: { api: Api; nodes: NodeWire[]; active: boolean }) {
  const [sla, setSla] = useState<ClusterSlaView | undefined>(undefined);
  usePoll(
    async () => {
      const status = await settle(() => props.api.get<unknown>("/v1/sla/status"));
      setSla(status.kind === "ok" ? clusterSlaOf(status.value) : undefined);
    },
    slaPollMs,
    props.active,
  );
  const rows = nodeRows(props.nodes, Date.now());
  const models = modelHolders(props.nodes);
  return (
    <div class="card" id="cluster-nodes">
      <h3>Nodes</h3>
      <p id="cluster-summary">
        {rows.length} {rows.length === 1 ? "node" : "nodes"}, {rows.filter((row) => row.accepting).length}{" "}
        accepting
        {sla !== undefined && (
          <>
            {" "}
            · cluster <strong data-state={sla.state}>{sla.state}</strong>
            {sla.reasons.length > 0 && `: ${sla.reasons.join("; ")}`}
          </>
        )}
      </p>
      <div class="table-wrap" tabIndex={0}>
        <table id="cluster-node-table">
          <caption class="muted">Queued per priority: high / normal / low</caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Host</th>
              <th scope="col">Accepting</th>
              <th scope="col">Heartbeat</th>
              <th scope="col">Memory</th>
              {sla !== undefined && <th scope="col">SLA</th>}
              <th scope="col">Models (state, sequences active/total, queued)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const nodeSla = sla?.nodes.get(row.nodeId);
              return (
                <tr key={row.nodeId} data-node={row.nodeId} data-stale={row.isStale ? "true" : undefined}>
                  <th scope="row">{row.nodeId}</th>
                  <td>{row.host}</td>
                  <td>{row.accepting ? "yes" : "no (draining)"}</td>
                  <td>
                    {row.heartbeatAge} ago{row.isStale && <strong class="error"> (stale)</strong>}
                  </td>
                  <td>
                    {row.memory}
                    {row.memoryFraction !== null && ` (${Math.round(row.memoryFraction * 100)} %)`}
                  </td>
                  {sla !== undefined && (
                    <td data-sla={nodeSla?.state ?? "unknown"} title={nodeSla?.reasons.join("; ")}>
                      {nodeSla?.state ?? "–"}
                    </td>
                  )}
                  <td>
                    {row.models.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul class="node-models">
                        {row.models.map((model) => (
                          <li key={model.name} data-model={model.name}>
                            <strong>{model.name}</strong> {model.state}, {model.sequences} sequences, queued{" "}
                            {queuedText(model.queued)}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div class="table-wrap" tabIndex={0}>
        <table id="cluster-model-table">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Held by</th>
              <th scope="col">Sequences</th>
              <th scope="col">Queued (high / normal / low)</th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr key={model.model} data-model={model.model}>
                <th scope="row">{model.model}</th>
                <td>{model.holders.map((holder) => `${holder.nodeId} (${holder.state})`).join(", ")}</td>
                <td>{model.sequences}</td>
                <td>{queuedText(model.queued)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

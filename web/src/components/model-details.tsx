/** A model's GGUF summary and the memory loading it would take (GET /v1/models/{name}/details). */
import { formatBytes, formatCount } from "../format.js";

export interface DetailsWire {
  name: string;
  architecture: string;
  parameters: number;
  quantization: string;
  context_length: number | null;
  block_count: number | null;
  embedding_length: number | null;
  tensors: number;
  chat_template: boolean;
  memory_estimate: {
    total_bytes: number;
    weights_bytes: number;
    kv_cache_bytes: number;
    compute_bytes: number;
  };
}

export function ModelDetails(props: { details: DetailsWire; onClose: () => void }) {
  const { details } = props;
  const estimate = details.memory_estimate;
  return (
    <div class="card" id="model-details" role="region" aria-label={`Details of ${details.name}`}>
      <h3>
        {details.name}{" "}
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </h3>
      <dl class="grid">
        <dt>Architecture</dt>
        <dd>{details.architecture}</dd>
        <dt>Parameters</dt>
        <dd>{formatCount(details.parameters)}</dd>
        <dt>Quantisation</dt>
        <dd>{details.quantization}</dd>
        <dt>Trained context</dt>
        <dd>{details.context_length ?? "–"}</dd>
        <dt>Layers / embedding</dt>
        <dd>
          {details.block_count ?? "–"} / {details.embedding_length ?? "–"}
        </dd>
        <dt>Tensors</dt>
        <dd>{details.tensors}</dd>
        <dt>Chat template</dt>
        <dd>{details.chat_template ? "yes" : "no: chat uses a plain prompt"}</dd>
        <dt>Memory to load</dt>
        <dd>
          {formatBytes(estimate.total_bytes)} (weights {formatBytes(estimate.weights_bytes)}, KV cache{" "}
          {formatBytes(estimate.kv_cache_bytes)}, compute {formatBytes(estimate.compute_bytes)})
        </dd>
      </dl>
    </div>
  );
}

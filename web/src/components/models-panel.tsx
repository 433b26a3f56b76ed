/**
 * Models: the library (/api/tags, /api/show), what is loaded (/api/ps), files that failed
 * validation (/v1/model-files), GGUF details with the memory estimate, load / pin / unload, pull.
 */
import { useState } from "preact/hooks";
import { ApiError, type Api } from "../api.js";
import { formatBytes, formatMs } from "../format.js";
import { usePoll } from "../hooks.js";
import { ModelDetails, type DetailsWire } from "./model-details.js";
import { PullForm } from "./pull-form.js";

interface TagWire {
  name: string;
  size: number;
  details: { quantization_level: string; parameter_size: string; family: string };
}
interface PsWire {
  name: string;
  size: number;
  size_vram: number;
  expires_at: string;
  context_length: number;
  threads: number;
  sequences: { total: number; active: number; queued: number };
}
interface ShowWire {
  template: string;
  model_info: Record<string, unknown>;
}
interface InvalidWire {
  name: string;
  size_bytes: number;
  error: string;
}

interface Library {
  tags: TagWire[];
  shows: Record<string, ShowWire | undefined>;
  loaded: PsWire[];
  invalid: InvalidWire[] | undefined;
}

function contextOf(show: ShowWire | undefined): number | undefined {
  if (show === undefined) return undefined;
  const entry = Object.entries(show.model_info).find(([key]) => key.endsWith(".context_length"));
  return typeof entry?.[1] === "number" ? entry[1] : undefined;
}

export function ModelsPanel(props: { api: Api; admin: boolean; active: boolean; now: () => number }) {
  const { api, admin } = props;
  const [library, setLibrary] = useState<Library | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [details, setDetails] = useState<DetailsWire | undefined>(undefined);

  const refresh = async (): Promise<void> => {
    try {
      const [tags, ps] = await Promise.all([
        api.get<{ models: TagWire[] }>("/api/tags"),
        api.get<{ models: PsWire[] }>("/api/ps"),
      ]);
      const shows: Record<string, ShowWire | undefined> = { ...library?.shows };
      await Promise.all(
        tags.models
          .filter((tag) => shows[tag.name] === undefined)
          .map(async (tag) => {
            shows[tag.name] = await api
              .post<ShowWire>("/api/show", { model: tag.name })
              .catch(() => undefined);
          }),
      );
      const invalid = admin
        ? (await api.get<{ invalid: InvalidWire[] }>("/v1/model-files").catch(() => undefined))?.invalid
        : undefined;
      setLibrary({ tags: tags.models, shows, loaded: ps.models, invalid });
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  usePoll(refresh, 4000, props.active);

  const act = async (name: string, action: "load" | "pin" | "unload"): Promise<void> => {
    setBusy(`${action}:${name}`);
    setNotice(undefined);
    try {
      await api.post(`/v1/models/${encodeURIComponent(name)}/${action}`);
      setNotice(
        `${name}: ${action === "unload" ? "unloaded" : action === "pin" ? "loaded and pinned" : "loaded"}.`,
      );
    } catch (failure) {
      setNotice(
        `${name}: ${action} failed — ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    } finally {
      setBusy(undefined);
      await refresh();
    }
  };

  const showDetails = async (name: string): Promise<void> => {
    try {
      setDetails(await api.get<DetailsWire>(`/v1/models/${encodeURIComponent(name)}/details`));
    } catch (failure) {
      setNotice(failure instanceof ApiError ? `${name}: ${failure.message}` : String(failure));
    }
  };

  const loadedNames = new Set(library?.loaded.map((model) => model.name));
  return (
    <section aria-labelledby="models-title" class="panel" id="panel-models">
      <h2 id="models-title">Models</h2>
      {error !== undefined && (
        <p role="alert" class="error">
          Could not read the models: {error}
        </p>
      )}
      {notice !== undefined && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <h3>Library</h3>
      <div class="table-wrap" tabIndex={0}>
        <table id="library">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Quantisation</th>
              <th scope="col">Parameters</th>
              <th scope="col">Context</th>
              <th scope="col">Chat template</th>
              <th scope="col">State</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {library?.tags.map((tag) => {
              const show = library.shows[tag.name];
              const isLoaded = loadedNames.has(tag.name);
              return (
                <tr key={tag.name} data-model={tag.name}>
                  <th scope="row">{tag.name}</th>
                  <td>{formatBytes(tag.size)}</td>
                  <td>{tag.details.quantization_level}</td>
                  <td>{tag.details.parameter_size}</td>
                  <td>{contextOf(show) ?? "–"}</td>
                  <td>{show === undefined ? "–" : show.template === "" ? "no (plain prompt)" : "yes"}</td>
                  <td class="state">{isLoaded ? "loaded" : "on disk"}</td>
                  {admin && (
                    <td class="actions">
                      <button
                        type="button"
                        disabled={busy !== undefined}
                        onClick={() => void act(tag.name, "load")}
                        aria-label={`Load ${tag.name}`}
                      >
                        {busy === `load:${tag.name}` ? "Loading…" : "Load"}
                      </button>
                      <button
                        type="button"
                        disabled={busy !== undefined}
                        onClick={() => void act(tag.name, "pin")}
                        aria-label={`Pin ${tag.name}`}
                      >
                        Pin
                      </button>
                      <button
                        type="button"
                        disabled={busy !== undefined || !isLoaded}
                        onClick={() => void act(tag.name, "unload")}
                        aria-label={`Unload ${tag.name}`}
                      >
                        Unload
                      </button>
                      <button
                        type="button"
                        onClick={() => void showDetails(tag.name)}
                        aria-label={`Details of ${tag.name}`}
                      >
                        Details
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {library !== undefined && library.tags.length === 0 && (
        <p class="muted">No model files in the models folder.</p>
      )}
      {library?.invalid !== undefined && library.invalid.length > 0 && (
        <div role="alert" class="error" id="invalid-models">
          <h3>Files that failed validation</h3>
          <ul>
            {library.invalid.map((file) => (
              <li key={file.name}>
                <strong>{file.name}.gguf</strong> ({formatBytes(file.size_bytes)}): {file.error}
              </li>
            ))}
          </ul>
        </div>
      )}
      {details !== undefined && <ModelDetails details={details} onClose={() => setDetails(undefined)} />}
      <h3>Loaded</h3>
      <div class="table-wrap" tabIndex={0}>
        <table id="loaded">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Memory</th>
              <th scope="col">Backend</th>
              <th scope="col">Threads</th>
              <th scope="col">Sequences in use</th>
              <th scope="col">Context</th>
              <th scope="col">Keep-alive left</th>
            </tr>
          </thead>
          <tbody>
            {library?.loaded.map((model) => {
              const left = Date.parse(model.expires_at) - props.now();
              return (
                <tr key={model.name} data-model={model.name}>
                  <th scope="row">{model.name}</th>
                  <td>{formatBytes(model.size)}</td>
                  <td>{model.size_vram > 0 ? "GPU" : "CPU"}</td>
                  <td>{model.threads === 0 ? "auto" : model.threads}</td>
                  <td>
                    {model.sequences.active} / {model.sequences.total}
                    {model.sequences.queued > 0 ? ` (+${model.sequences.queued} waiting)` : ""}
                  </td>
                  <td>{model.context_length}</td>
                  <td>
                    {left > 100 * 365 * 24 * 3600_000
                      ? "kept (pinned)"
                      : left > 0
                        ? formatMs(left)
                        : "busy or due"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {library !== undefined && library.loaded.length === 0 && <p class="muted">No model is loaded.</p>}
      {admin && <PullForm api={api} onDone={refresh} />}
    </section>
  );
}

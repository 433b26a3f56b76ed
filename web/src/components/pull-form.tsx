/** Pull a model by URL or `hf:` through the server (POST /api/pull, NDJSON progress). */
import { useState } from "preact/hooks";
import { ApiError, type Api } from "../api.js";

interface Progress {
  status: string;
  total?: number;
  completed?: number;
  error?: string;
}

export function PullForm(props: { api: Api; onDone: () => Promise<void> }) {
  const [source, setSource] = useState("");
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [running, setRunning] = useState(false);

  const pull = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (source.trim() === "") return;
    setRunning(true);
    setMessage(undefined);
    setProgress({ status: "starting" });
    try {
      const response = await props.api.request("/api/pull", {
        method: "POST",
        body: JSON.stringify({ model: source.trim(), stream: true }),
        headers: { "Content-Type": "application/json" },
      });
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const chunk = await reader?.read();
        if (chunk === undefined || chunk.done) break;
        buffer += chunk.value;
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines.filter((item) => item.trim() !== "")) {
          const update = JSON.parse(line) as Progress;
          if (update.error !== undefined) throw new Error(update.error);
          setProgress(update);
        }
      }
      setMessage("Pulled; the model is in the library.");
    } catch (failure) {
      setProgress(undefined);
      setMessage(
        failure instanceof ApiError && failure.status === 404
          ? "Pulling from the browser waits for the server's pull route (POST /api/pull); use `rawrxd pull` meanwhile."
          : `Pull failed: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    } finally {
      setRunning(false);
      await props.onDone();
    }
  };

  const percent =
    progress?.total !== undefined && progress.total > 0
      ? Math.round(((progress.completed ?? 0) / progress.total) * 100)
      : undefined;
  return (
    <form class="card" onSubmit={(event) => void pull(event)} aria-labelledby="pull-title">
      <h3 id="pull-title">Pull a model</h3>
      <label for="pull-source">URL or hf:owner/repo/file.gguf</label>
      <div class="row">
        <input
          id="pull-source"
          value={source}
          onInput={(event) => setSource(event.currentTarget.value)}
          placeholder="hf:owner/repo/model.gguf"
        />
        <button type="submit" disabled={running}>
          Pull
        </button>
      </div>
      {progress !== undefined && (
        <p>
          {progress.status}{" "}
          {percent !== undefined && (
            <progress max={100} value={percent} aria-label="Pull progress">
              {percent}%
            </progress>
          )}
        </p>
      )}
      {message !== undefined && <p role="status">{message}</p>}
    </form>
  );
}

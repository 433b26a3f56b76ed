/**
 * Server paths never reach a client: an error message that names a file under the models folder,
 * the data folder, the backup, workspace, prompt-cache or witness folder, the user's home or the
 * temporary folder is rewritten to name only the file
 * (`Model file broken.gguf is not a valid GGUF`) or the folder's role. The full message stays in
 * the server log.
 */
import { homedir, tmpdir } from "node:os";
import { AppError } from "../core/index.js";

export interface HiddenFolder {
  path: string;
  /** What the client reads instead of the folder's own path. */
  label: string;
}

export interface ServerFolders {
  modelsDir: string;
  home: string;
  /** Folders an operator may place anywhere ("" = not configured). */
  backupDir?: string;
  workspace?: string;
  promptCache?: string;
  auditWitness?: string;
}

export function hiddenFolders(options: ServerFolders): HiddenFolder[] {
  return [
    { path: options.modelsDir, label: "the models folder" },
    { path: options.home, label: "the server's data folder" },
    { path: options.backupDir ?? "", label: "the backup folder" },
    { path: options.workspace ?? "", label: "the workspace" },
    { path: options.promptCache ?? "", label: "the prompt cache folder" },
    { path: options.auditWitness ?? "", label: "the audit witness folder" },
    { path: homedir(), label: "the server user's home" },
    { path: tmpdir(), label: "the temporary folder" },
  ].filter((folder) => folder.path.length > 1);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Builds the rewrite once per server: longest folders first, so the models folder wins over home. */
export function pathRedactor(folders: readonly HiddenFolder[]): (message: string) => string {
  const ordered = [...folders].sort((left, right) => right.path.length - left.path.length);
  const patterns = ordered.map((folder) => ({
    // The folder itself, or a path inside it; never a sibling such as `/srv/rawrxd-old`.
    pattern: new RegExp(
      `${escapeRegExp(folder.path.replace(/[\\/]+$/, ""))}(?:([\\\\/][^\\s"'\`<>|,;()]*)|(?![\\w-]|\\.\\w))`,
      "g",
    ),
    label: folder.label,
  }));
  return (message) => {
    let text = message;
    for (const { pattern, label } of patterns)
      text = text.replace(pattern, (_match, rest: string | undefined = "") => {
        // A sentence's final period is not part of the file name.
        const trailing = /\.+$/.exec(rest)?.[0] ?? "";
        const name = rest
          .slice(0, rest.length - trailing.length)
          .split(/[\\/]/)
          .filter((part) => part !== "")
          .pop();
        return (name ?? label) + trailing;
      });
    return text;
  };
}

const redactors = new WeakMap<object, (message: string) => string>();

/** The redactor of one server's folders, built once per config. */
export function redactorFor(config: { modelsDir: string; home: string }): (message: string) => string {
  let redact = redactors.get(config);
  if (redact === undefined) {
    redact = pathRedactor(hiddenFolders(config));
    redactors.set(config, redact);
  }
  return redact;
}

/** The same error with its message rewritten for a client; the error itself when nothing changed. */
export function forClient(error: AppError, redact: (message: string) => string): AppError {
  const message = redact(error.message);
  if (message === error.message) return error;
  return new AppError(error.code, message, {
    cause: error,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    ...(error.param === undefined ? {} : { param: error.param }),
  });
}

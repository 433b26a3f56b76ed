/**
 * A model file replaced or rewritten while its runner is loaded: the runner still serves the
 * old file (or, rewritten in place, bytes that no longer match the header that was checked).
 * Every request resolves its model through the catalog, which re-validates a file whose
 * identity (device, inode, size, mtime) changed; this guard then unloads the runner of the old
 * file, so the request loads the new one. A file that became invalid fails in the catalog
 * (model-invalid) and a deleted one is model-not-found, before any runner is used; requests
 * already running on a deleted file finish, since the runner keeps it open.
 */
import type { Logger } from "../core/index.js";
import type { ModelFile } from "../models/index.js";

export interface ModelFileGuardOptions {
  resolve: (name: string) => Promise<ModelFile>;
  /** Unloads a model's runner (its running requests fail); resolves false when none was loaded. */
  unload: (name: string) => Promise<boolean>;
  logger: Logger;
}

export function guardModelFileChanges(options: ModelFileGuardOptions): (name: string) => Promise<ModelFile> {
  const identities = new Map<string, string>();
  return async (name) => {
    const file = await options.resolve(name);
    const previous = identities.get(file.name);
    // Recorded before the unload is awaited: a concurrent request sees the new identity and
    // waits for the unloading runner instead of unloading the fresh one.
    identities.set(file.name, file.fileIdentity);
    if (previous !== undefined && previous !== file.fileIdentity) {
      const wasLoaded = await options.unload(file.name);
      if (wasLoaded) {
        options.logger.info("Model file changed on disk: its runner was stopped and the new file loads.", {
          model: file.name,
        });
      }
    }
    return file;
  };
}

/** What the catalog reports about model files: valid entries, invalid files, scans. */
import type { ErrorCode } from "../core/index.js";
import type { GgufInfo } from "../gguf/index.js";

/** A model file with its validated header; what loading a model needs. */
export interface ModelFile {
  /** File name without `.gguf`. */
  name: string;
  /** `<modelsDir>/<name>.gguf` (may be a symlink to a file in the same folder). */
  path: string;
  sizeBytes: number;
  modifiedAt: Date;
  /**
   * `device:inode:size:mtimeMs` of the real file when it was resolved: a different value for the
   * same name means the file was replaced or rewritten since (a loaded runner holds the old one).
   */
  fileIdentity: string;
  info: GgufInfo;
  /** The bundled demo model, offered while the models folder has none (models/demo/README.md). */
  isDemo?: true;
}

export interface ModelEntry extends ModelFile {
  /** SHA-256 of the file, lowercase hex. */
  digest: string;
}

/** A `*.gguf` file whose header did not validate; `list()` leaves it out, `scan()` reports it. */
export interface InvalidModelFile {
  name: string;
  path: string;
  sizeBytes: number;
  modifiedAt: Date;
  /** The reader's message: what is wrong with the file. */
  error: string;
  errorCode: ErrorCode;
}

export interface CatalogScan {
  models: ModelEntry[];
  invalid: InvalidModelFile[];
}

export type ReadHeader = (path: string, options?: { signal?: AbortSignal }) => Promise<GgufInfo>;

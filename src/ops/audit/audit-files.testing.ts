/** Fault injection for the audit log's file port: writes that fail on demand, as a full disk would. */
import { openSegmentFile, type OpenSegmentFile } from "./audit-files.js";

export interface FailingFiles {
  open: OpenSegmentFile;
  /** From now on every write fails with `code` (ENOSPC: "no space left on device"). */
  fail(code?: string): void;
  /** Writes succeed again. */
  heal(): void;
  /** Writes attempted so far, failed ones included. */
  readonly writes: number;
}

export function failingFiles(): FailingFiles {
  let failure: string | undefined;
  let writes = 0;
  const files: FailingFiles = {
    open: async (path) => {
      const handle = await openSegmentFile(path);
      return {
        write: async (text) => {
          writes += 1;
          if (failure !== undefined)
            throw Object.assign(new Error(`${failure}: cannot write ${path} (injected)`), { code: failure });
          return handle.write(text);
        },
        datasync: () => handle.datasync(),
        close: () => handle.close(),
      };
    },
    fail: (code = "ENOSPC") => void (failure = code),
    heal: () => void (failure = undefined),
    get writes() {
      return writes;
    },
  };
  return files;
}

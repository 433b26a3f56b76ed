/**
 * Fault injection for the audit log's file port: writes that fail on demand (a full disk), and
 * a disk whose fdatasync can be held, to see what waits for a record to be durable.
 */
import { openSegmentFile, type OpenSegmentFile } from "./audit-files.js";

export interface TestFiles {
  open: OpenSegmentFile;
  /** From now on every write fails with `code` (ENOSPC: "no space left on device"). */
  fail(code?: string): void;
  /** Writes succeed again. */
  heal(): void;
  /** Every fdatasync from now on waits until `release()`. */
  hold(): void;
  release(): void;
  /** Writes attempted so far, failed ones included. */
  readonly writes: number;
  /** fdatasync calls completed so far. */
  readonly syncs: number;
  /** Everything written and fdatasynced so far, in order. */
  readonly durable: string;
}

export function testFiles(): TestFiles {
  let failure: string | undefined;
  let writes = 0;
  let syncs = 0;
  let durable = "";
  let held: { promise: Promise<void>; release: () => void } | undefined;
  const files: TestFiles = {
    open: async (path) => {
      const handle = await openSegmentFile(path);
      let unsynced = "";
      return {
        write: async (text) => {
          writes += 1;
          if (failure !== undefined)
            throw Object.assign(new Error(`${failure}: cannot write ${path} (injected)`), { code: failure });
          unsynced += text;
          return handle.write(text);
        },
        datasync: async () => {
          await held?.promise;
          await handle.datasync();
          syncs += 1;
          durable += unsynced;
          unsynced = "";
        },
        close: () => handle.close(),
      };
    },
    fail: (code = "ENOSPC") => void (failure = code),
    heal: () => void (failure = undefined),
    hold: () => {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      held = { promise, release };
    },
    release: () => {
      held?.release();
      held = undefined;
    },
    get writes() {
      return writes;
    },
    get syncs() {
      return syncs;
    },
    get durable() {
      return durable;
    },
  };
  return files;
}

/**
 * A real, tiny file system for disk-full tests: a tmpfs mounted on a folder (needs root or
 * CAP_SYS_ADMIN). Where mounting is not permitted the tests that need it skip, saying why;
 * the deterministic disk-full tests use injected file ports and run everywhere.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stderr ?? ""}${result.error?.message ?? ""}`.trim() };
}

/** Why a tmpfs cannot be mounted here, or undefined when it can (probed once, then unmounted). */
export function whyNoSmallDisk(): string | undefined {
  if (process.platform !== "linux") return `tmpfs mounts need Linux (this is ${process.platform})`;
  const probe = mkdtempSync(join(tmpdir(), "rawrxd-tmpfs-probe-"));
  try {
    const mounted = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]);
    if (!mounted.ok) return `mounting a tmpfs is not permitted here (${mounted.output || "mount failed"})`;
    run(["umount", probe]);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export interface SmallDisk {
  path: string;
  /** Grows (or shrinks) the file system: "space returns". */
  resize(bytes: number): void;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes` on `path` (created if missing). */
export function mountSmallDisk(path: string, bytes: number): SmallDisk {
  mkdirSync(path, { recursive: true });
  const mounted = run(["mount", "-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", path]);
  if (!mounted.ok) throw new Error(`Could not mount a tmpfs on ${path}: ${mounted.output}`);
  let isMounted = true;
  return {
    path,
    resize(size) {
      const result = run(["mount", "-o", `remount,size=${size}`, path]);
      if (!result.ok) throw new Error(`Could not resize the tmpfs on ${path}: ${result.output}`);
    },
    unmount() {
      if (!isMounted) return;
      isMounted = false;
      run(["umount", path]);
    },
  };
}

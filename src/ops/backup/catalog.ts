/**
 * The backups in a folder, ordered by time, and the chain behind each restore point: a full
 * stands alone; a differential needs its full; an incremental needs its parent, back to a full.
 * `resolveFiles` turns a chain into the complete file list of the point, each file with the
 * chunks of the backup that last stored it.
 */
import type { BackupKind, BackupManifest, ManifestFile, StoredManifest } from "./manifest.js";

export type BackupStatus = "complete" | "failed" | "unreadable" | "bad-signature";

export interface BackupEntry {
  id: string;
  kind: BackupKind | undefined;
  parent: string | null;
  createdAtMs: number;
  /** Creation order in the folder (unknown for unreadable manifests and killed backups). */
  sequence: number | undefined;
  status: BackupStatus;
  /** Why it is not complete. */
  reason?: string;
  manifest?: BackupManifest;
}

export function catalogOf(stored: readonly StoredManifest[]): BackupEntry[] {
  const entries = stored.map((item): BackupEntry => {
    switch (item.state) {
      case "signed": {
        const manifest = item.signed.manifest;
        return {
          id: item.id,
          kind: manifest.kind,
          parent: manifest.parent,
          createdAtMs: manifest.createdAtMs,
          sequence: manifest.sequence,
          status: item.isSignatureValid ? "complete" : "bad-signature",
          ...(item.isSignatureValid
            ? { manifest }
            : { reason: "its manifest's signature does not verify with the backup signing key" }),
        };
      }
      case "unreadable":
        return {
          id: item.id,
          kind: undefined,
          parent: null,
          createdAtMs: 0,
          sequence: undefined,
          status: "unreadable",
          reason: item.reason,
        };
      case "failed":
        return {
          id: item.id,
          kind: item.kind,
          parent: null,
          createdAtMs: item.createdAtMs ?? 0,
          sequence: item.sequence,
          status: "failed",
          reason: item.error,
        };
    }
  });
  return entries.sort(
    (a, b) =>
      a.createdAtMs - b.createdAtMs ||
      (a.sequence ?? Infinity) - (b.sequence ?? Infinity) ||
      (a.id < b.id ? -1 : 1),
  );
}

/** The sequence number the next backup in the folder takes. */
export function nextSequence(entries: readonly BackupEntry[]): number {
  return entries.reduce((highest, entry) => Math.max(highest, entry.sequence ?? 0), 0) + 1;
}

export interface ChainProblem {
  backupId: string;
  kind: "missing-manifest" | "bad-signature" | "unreadable-manifest" | "broken-chain";
  message: string;
}

/** Target first, back to its full; or the problem that stops the walk. */
export function chainOf(
  id: string,
  byId: ReadonlyMap<string, BackupEntry>,
): { chain: BackupManifest[]; problem?: ChainProblem } {
  const chain: BackupManifest[] = [];
  let currentId: string | null = id;
  let child: BackupManifest | undefined;
  while (currentId !== null) {
    const entry = byId.get(currentId);
    const via = child === undefined ? "" : ` (parent of ${child.kind} ${child.id})`;
    if (entry === undefined || entry.status === "failed")
      return {
        chain,
        problem: {
          backupId: currentId,
          kind: "missing-manifest",
          message: `backup ${currentId}${via} has no manifest${entry?.status === "failed" ? " (it failed)" : ""}`,
        },
      };
    if (entry.status === "unreadable")
      return {
        chain,
        problem: {
          backupId: currentId,
          kind: "unreadable-manifest",
          message: `backup ${currentId}${via}: ${entry.reason}`,
        },
      };
    if (entry.status === "bad-signature" || entry.manifest === undefined)
      return {
        chain,
        problem: {
          backupId: currentId,
          kind: "bad-signature",
          message: `backup ${currentId}${via}: ${entry.reason}`,
        },
      };
    const manifest = entry.manifest;
    const problem = linkProblem(manifest, child);
    if (problem !== undefined)
      return { chain, problem: { backupId: manifest.id, kind: "broken-chain", message: problem } };
    chain.push(manifest);
    if (chain.length > 100_000) break;
    child = manifest;
    currentId = manifest.parent;
  }
  if (child !== undefined && child.kind !== "full")
    return {
      chain,
      problem: {
        backupId: child.id,
        kind: "broken-chain",
        message: `backup ${child.id} is a ${child.kind} without a parent`,
      },
    };
  return { chain };
}

function linkProblem(manifest: BackupManifest, child: BackupManifest | undefined): string | undefined {
  if (manifest.kind === "full" && manifest.parent !== null)
    return `full backup ${manifest.id} names a parent`;
  if (child?.kind === "differential" && manifest.kind !== "full")
    return `differential ${child.id} has parent ${manifest.id}, a ${manifest.kind}, not a full`;
  return undefined;
}

export interface ResolvedFile extends ManifestFile {
  chunks: string[];
  /** The backup whose manifest lists the chunks. */
  ownerId: string;
}

/** The files of the restore point at the head of `chain` (target first). */
export function resolveFiles(chain: readonly BackupManifest[]): {
  files: ResolvedFile[];
  problem?: ChainProblem;
} {
  let current = new Map<string, ResolvedFile>();
  for (const manifest of [...chain].reverse()) {
    const next = new Map<string, ResolvedFile>();
    for (const file of manifest.files) {
      if (file.chunks !== undefined) {
        next.set(file.path, { ...file, chunks: file.chunks, ownerId: manifest.id });
        continue;
      }
      const before = current.get(file.path);
      if (before === undefined || before.sha256 !== file.sha256)
        return {
          files: [],
          problem: {
            backupId: manifest.id,
            kind: "broken-chain",
            message: `backup ${manifest.id} says ${file.path} is unchanged, but its parent ${manifest.parent ?? "(none)"} holds ${before === undefined ? "no such file" : "other content"}`,
          },
        };
      next.set(file.path, { ...before, mode: file.mode });
    }
    current = next;
  }
  return { files: [...current.values()] };
}

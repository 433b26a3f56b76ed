/**
 * `verify`: for each restore point, the manifest signatures along its chain back to the full,
 * that chain's shape, that every chunk it needs is present and, with `readData`, re-hashes every
 * chunk (restic's `check --read-data`). Each problem names the backup and chunk at fault and the
 * restore points it breaks; each chunk is checked once however many points share it.
 */
import { AppError } from "../../core/index.js";
import type { BackupContext } from "./backup-context.js";
import { catalogOf, chainOf, resolveFiles, type BackupEntry, type ResolvedFile } from "./catalog.js";
import { ChunkCorruptError } from "./chunk-store.js";
import { readManifests } from "./manifest.js";
import { writeVerification } from "./verification-record.js";

export type BackupProblemKind =
  | "missing-manifest"
  | "unreadable-manifest"
  | "bad-signature"
  | "broken-chain"
  | "missing-chunk"
  | "corrupt-chunk";

export interface BackupProblem {
  kind: BackupProblemKind;
  /** The backup whose manifest is at fault, or that lists the chunk. */
  backupId: string;
  message: string;
  chunk?: string;
  file?: string;
  /** Restore points that cannot be restored because of it. */
  breaks: string[];
}

export interface RestorePointResult {
  id: string;
  ok: boolean;
  /** Ids from the full to this point: what a restore replays. */
  chain: string[];
}

export interface BackupVerifyReport {
  ok: boolean;
  readData: boolean;
  points: RestorePointResult[];
  chunksChecked: number;
  problems: BackupProblem[];
}

export interface VerifyOptions {
  /** Verify these restore points; default every backup in the folder that is not marked failed. */
  ids?: readonly string[];
  readData?: boolean;
}

export async function verifyBackups(
  context: BackupContext,
  options: VerifyOptions = {},
): Promise<BackupVerifyReport> {
  const entries = catalogOf(await readManifests(context.backupDir, context.signingKey));
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const points = entries.filter((entry) => entry.status !== "failed");
  const targets = options.ids ?? points.map((entry) => entry.id);
  const unknown = targets.filter((id) => !byId.has(id));
  if (unknown.length > 0)
    throw new AppError(
      "not-found",
      `There is no backup ${unknown.join(", ")}; "rawrxd backup list" shows them.`,
    );
  const problems: BackupProblem[] = [];
  const resolvedById = resolveAll(points, byId);
  const usersOfChunk = (chunk: string): string[] =>
    [...resolvedById]
      .filter(([, files]) => files?.some((file) => file.chunks.includes(chunk)))
      .map(([id]) => id);
  const dependentsOf = (backupId: string): string[] =>
    points
      .filter(
        (entry) =>
          chainOf(entry.id, byId).chain.some((manifest) => manifest.id === backupId) || entry.id === backupId,
      )
      .map((entry) => entry.id);

  const results: RestorePointResult[] = [];
  const needed = new Map<string, { ownerId: string; file: string }>();
  const chainProblems = new Set<string>();
  for (const id of targets) {
    const { chain, problem } = chainOf(id, byId);
    const resolved = problem === undefined ? resolveFiles(chain) : { files: [], problem };
    const chainIds = chain.map((manifest) => manifest.id).reverse();
    if (resolved.problem !== undefined) {
      const key = `${resolved.problem.backupId}:${resolved.problem.kind}`;
      if (!chainProblems.has(key)) {
        chainProblems.add(key);
        const breaks = byId.has(resolved.problem.backupId) ? dependentsOf(resolved.problem.backupId) : [id];
        problems.push({ ...resolved.problem, breaks: breaks.includes(id) ? breaks : [...breaks, id] });
      } else {
        const existing = problems.find((item) => `${item.backupId}:${item.kind}` === key);
        if (existing !== undefined && !existing.breaks.includes(id)) existing.breaks.push(id);
      }
      results.push({ id, ok: false, chain: chainIds });
      continue;
    }
    for (const file of resolved.files)
      for (const chunk of file.chunks)
        if (!needed.has(chunk)) needed.set(chunk, { ownerId: file.ownerId, file: file.path });
    results.push({ id, ok: true, chain: chainIds });
  }

  const badChunks = new Set<string>();
  for (const [chunk, where] of needed) {
    const fault = await checkChunk(context, chunk, options.readData === true);
    if (fault === undefined) continue;
    badChunks.add(chunk);
    problems.push({
      kind: fault.kind,
      backupId: where.ownerId,
      chunk,
      file: where.file,
      message: `chunk ${chunk} of ${where.file} (stored by backup ${where.ownerId}) ${fault.detail}`,
      breaks: usersOfChunk(chunk),
    });
  }
  for (const result of results) {
    if (!result.ok) continue;
    const files = resolvedById.get(result.id) ?? [];
    if (files.some((file) => file.chunks.some((chunk) => badChunks.has(chunk)))) result.ok = false;
  }
  const atMs = context.time.wallNow();
  for (const result of results)
    await writeVerification(context.backupDir, result.id, {
      ok: result.ok,
      readData: options.readData === true,
      atMs,
    });
  return {
    ok: problems.length === 0 && results.every((result) => result.ok),
    readData: options.readData === true,
    points: results,
    chunksChecked: needed.size,
    problems,
  };
}

function resolveAll(
  points: readonly BackupEntry[],
  byId: ReadonlyMap<string, BackupEntry>,
): Map<string, ResolvedFile[] | undefined> {
  const resolved = new Map<string, ResolvedFile[] | undefined>();
  for (const entry of points) {
    const { chain, problem } = chainOf(entry.id, byId);
    if (problem !== undefined) {
      resolved.set(entry.id, undefined);
      continue;
    }
    const result = resolveFiles(chain);
    resolved.set(entry.id, result.problem === undefined ? result.files : undefined);
  }
  return resolved;
}

async function checkChunk(
  context: BackupContext,
  chunk: string,
  readData: boolean,
): Promise<{ kind: "missing-chunk" | "corrupt-chunk"; detail: string } | undefined> {
  if (!readData)
    return (await context.store.has(chunk)) ? undefined : { kind: "missing-chunk", detail: "is missing" };
  try {
    await context.store.get(chunk);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { kind: "missing-chunk", detail: "is missing" };
    if (error instanceof ChunkCorruptError)
      return { kind: "corrupt-chunk", detail: `is corrupt: ${error.message}` };
    throw error;
  }
}

/** One line per problem, for the CLI. */
export function formatBackupProblem(problem: BackupProblem): string {
  const breaks =
    problem.breaks.length === 0
      ? ""
      : `; breaks restore point${problem.breaks.length === 1 ? "" : "s"} ${problem.breaks.join(", ")}`;
  return `${problem.kind}: ${problem.message}${breaks}`;
}

/**
 * Restore: replays the chain (full, then each incremental in order, or the full and the
 * differential) into a new folder beside the target, checks it (every file's SHA-256,
 * `PRAGMA integrity_check`, the audit log's verifier), and only then swaps it in. A restore that
 * fails anywhere leaves the target as it was. Returns the measured time (the RTO).
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { AppError } from "../../core/index.js";
import { readPublicKey, verifyAuditLog } from "../audit/index.js";
import type { BackupContext } from "./backup-context.js";
import { databaseFileName } from "./capture.js";
import { catalogOf, chainOf, resolveFiles, type ResolvedFile } from "./catalog.js";
import { readManifests } from "./manifest.js";

export interface RestoreOptions {
  /** A new (or empty) folder to restore into. */
  to?: string;
  /** Replace the data in RAWRXD_HOME itself (the caller makes sure no server runs). */
  inPlace?: boolean;
  /** The audit public key to verify the restored log with; default the restored `.pub` file. */
  auditPublicKeyPath?: string;
}

export interface RestoreResult {
  id: string;
  target: string;
  chain: string[];
  files: number;
  bytes: number;
  databaseIntegrity: "ok" | "absent";
  audit: { intact: boolean; records: number } | "absent" | "no-public-key";
  /** Where the replaced data went (in-place only). */
  previousDataDir?: string;
  durationMs: number;
}

export async function restoreBackup(
  context: BackupContext,
  id: string,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const started = context.time.monotonicNow();
  if ((options.to === undefined) === (options.inPlace !== true))
    throw new AppError("bad-request", "Restore needs exactly one of --to DIR or --in-place.");
  const entries = catalogOf(await readManifests(context.backupDir, context.signingKey));
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  if (!byId.has(id))
    throw new AppError(
      "not-found",
      `There is no backup ${id} in the backup folder; "rawrxd backup list" shows them.`,
    );
  const { chain, problem } = chainOf(id, byId);
  const resolved = problem === undefined ? resolveFiles(chain) : { files: [], problem };
  if (resolved.problem !== undefined)
    throw new AppError(
      "conflict",
      `Backup ${id} cannot be restored: ${resolved.problem.message}. Pick another point (rawrxd backup verify lists the good ones).`,
    );

  const target = options.inPlace === true ? context.layout.home : options.to!;
  if (options.to !== undefined) await requireEmptyOrAbsent(target);
  const staging = join(
    options.inPlace === true ? target : dirname(target),
    `.restoring-${basename(target)}-${randomBytes(4).toString("hex")}`,
  );
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    let bytes = 0;
    for (const file of resolved.files) bytes += await writeFile(context, staging, file);
    const databaseIntegrity = await checkDatabase(join(staging, databaseFileName));
    const audit = await checkAudit(staging, context, options.auditPublicKeyPath);
    if (typeof audit === "object" && !audit.intact)
      throw new AppError(
        "internal",
        `The audit log of backup ${id} does not verify after restore; nothing was replaced. Run "rawrxd audit verify --home DIR" on a --to restore to see why.`,
      );
    let previousDataDir: string | undefined;
    if (options.inPlace === true)
      previousDataDir = await swapInPlace(staging, target, context.time.wallNow());
    else {
      await rmdir(target).catch(() => undefined);
      await rename(staging, target);
    }
    return {
      id,
      target,
      chain: chain.map((manifest) => manifest.id).reverse(),
      files: resolved.files.length,
      bytes,
      databaseIntegrity,
      audit,
      ...(previousDataDir === undefined ? {} : { previousDataDir }),
      durationMs: Math.round(context.time.monotonicNow() - started),
    };
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function requireEmptyOrAbsent(target: string): Promise<void> {
  try {
    const names = await readdir(target);
    if (names.length > 0)
      throw new AppError(
        "bad-request",
        `The restore target ${target} is not empty; name a new folder (restore never overwrites one).`,
      );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

async function writeFile(context: BackupContext, root: string, file: ResolvedFile): Promise<number> {
  if (file.path.split("/").some((part) => part === ".." || part === "") || file.path.startsWith("/"))
    throw new AppError(
      "internal",
      `Backup lists an unsafe path ${JSON.stringify(file.path)}; refusing to restore it.`,
    );
  const path = join(root, ...file.path.split("/"));
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, "wx", 0o600);
  const hash = createHash("sha256");
  let size = 0;
  try {
    for (const chunk of file.chunks) {
      const data = await context.store.get(chunk).catch((error: unknown) => {
        throw new AppError(
          "internal",
          `Cannot restore ${file.path}: chunk ${chunk} (stored by backup ${file.ownerId}) ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : (error as Error).message}.`,
          { cause: error },
        );
      });
      hash.update(data);
      size += data.length;
      await handle.write(data);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (hash.digest("hex") !== file.sha256 || size !== file.size)
    throw new AppError("internal", `Restored ${file.path} does not match the SHA-256 its manifest records.`);
  await chmod(path, file.mode);
  return size;
}

async function checkDatabase(path: string): Promise<"ok" | "absent"> {
  if (!(await exists(path))) return "absent";
  {
    const connection = new BetterSqlite3(path, { fileMustExist: true });
    try {
      const rows = connection.pragma("integrity_check") as { integrity_check: string }[];
      const result = rows.map((row) => row.integrity_check).join("; ");
      if (result !== "ok")
        throw new AppError("internal", `The restored database fails PRAGMA integrity_check: ${result}.`);
      return "ok";
    } finally {
      connection.close();
    }
  }
}

async function checkAudit(
  staging: string,
  context: BackupContext,
  publicKeyPath: string | undefined,
): Promise<RestoreResult["audit"]> {
  const directory = join(staging, "audit");
  if (!(await exists(directory))) return "absent";
  const relativeKey = `${context.layout.auditPrivateKey}.pub`.slice(context.layout.home.length + 1);
  const candidates = [
    publicKeyPath,
    join(staging, relativeKey),
    `${context.layout.auditPrivateKey}.pub`,
  ].filter((path): path is string => path !== undefined);
  for (const path of candidates) {
    if (!(await exists(path))) continue;
    const report = await verifyAuditLog({ directory, publicKey: await readPublicKey(path) });
    return { intact: report.intact, records: report.records };
  }
  return "no-public-key";
}

/**
 * Each restored top-level entry replaces the live one, which moves to `.before-restore-<time>/`
 * (never deleted: the operator removes it once satisfied). `models/` is merged file by file, so
 * model files the backup does not hold stay. The database's -wal and -shm go aside with it.
 */
async function swapInPlace(staging: string, home: string, wallMs: number): Promise<string> {
  const stamp = new Date(wallMs).toISOString().replace(/[-:.]/g, "");
  const aside = join(home, `.before-restore-${stamp}`);
  await mkdir(aside, { recursive: true });
  const moveAside = async (name: string): Promise<void> => {
    if (!(await exists(join(home, name)))) return;
    await mkdir(dirname(join(aside, name)), { recursive: true });
    await rename(join(home, name), join(aside, name));
  };
  for (const name of await readdir(staging)) {
    if (name === "models") {
      for (const file of await readdir(join(staging, "models"))) {
        await moveAside(join("models", file));
        await mkdir(join(home, "models"), { recursive: true });
        await rename(join(staging, "models", file), join(home, "models", file));
      }
      continue;
    }
    await moveAside(name);
    if (name === databaseFileName) for (const suffix of ["-wal", "-shm"]) await moveAside(name + suffix);
    await rename(join(staging, name), join(home, name));
  }
  return aside;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

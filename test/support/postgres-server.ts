/**
 * A real PostgreSQL for tests (issue #18): `initdb` into a temp folder and `postgres` on a free
 * loopback port, started and stopped by its PID. PostgreSQL refuses to run as root, so as root
 * (CI) the folder is handed to the `postgres` user (or `nobody`) and the server runs as that
 * user through `setpriv`. Debian's postgresql (`.ci/run` installs it when missing).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-server.js";
import { waitFor } from "./wait-for.js";

function postgresBinDirectory(): string {
  const explicit = process.env["RAWRXD_PG_BIN"];
  if (explicit !== undefined) return explicit;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb"))) return bin;
  }
  throw new Error(
    "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install -y postgresql.",
  );
}

/** The user to run PostgreSQL as when this process is root: its uid and gid. */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", name]).toString().trim());
      return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error("Running as root and no 'postgres' or 'nobody' user to run PostgreSQL as.");
}

export class PostgresTestServer {
  readonly port: number;
  readonly directory: string;
  readonly #bin: string;
  readonly #user: { uid: number; gid: number } | undefined;
  #process: ChildProcess | undefined;

  private constructor(port: number, directory: string) {
    this.port = port;
    this.directory = directory;
    this.#bin = postgresBinDirectory();
    this.#user = unprivilegedUser();
  }

  /** initdb (trust auth on loopback, user `rawrxd`, database `rawrxd`) and start. */
  static async start(): Promise<PostgresTestServer> {
    const directory = mkdtempSync(join(tmpdir(), "rawrxd-pg-"));
    const server = new PostgresTestServer(await freePort(), directory);
    if (server.#user !== undefined) {
      chmodSync(directory, 0o700);
      chownSync(directory, server.#user.uid, server.#user.gid);
    }
    server.#run("initdb", [
      "-D",
      server.dataDirectory,
      "-U",
      "rawrxd",
      "-A",
      "trust",
      "--no-sync",
      "-E",
      "UTF8",
    ]);
    await server.#spawn();
    server.#run("createdb", ["-h", "127.0.0.1", "-p", String(server.port), "-U", "rawrxd", "rawrxd"]);
    return server;
  }

  get dataDirectory(): string {
    return join(this.directory, "data");
  }

  /** postgres://rawrxd@127.0.0.1:PORT/DATABASE */
  url(database = "rawrxd"): string {
    return `postgres://rawrxd@127.0.0.1:${this.port}/${database}`;
  }

  /** A fresh database on this server (one per test file keeps tests apart). */
  createDatabase(name: string): string {
    this.#run("createdb", ["-h", "127.0.0.1", "-p", String(this.port), "-U", "rawrxd", name]);
    return this.url(name);
  }

  #command(name: string, args: string[]): [string, string[]] {
    const path = join(this.#bin, name);
    if (this.#user === undefined) return [path, args];
    return [
      "setpriv",
      [`--reuid=${this.#user.uid}`, `--regid=${this.#user.gid}`, "--clear-groups", path, ...args],
    ];
  }

  #run(name: string, args: string[]): void {
    const [file, fullArgs] = this.#command(name, args);
    execFileSync(file, fullArgs, { stdio: ["ignore", "ignore", "pipe"], cwd: this.directory });
  }

  async #spawn(): Promise<void> {
    const [file, args] = this.#command("postgres", [
      "-D",
      this.dataDirectory,
      "-p",
      String(this.port),
      "-h",
      "127.0.0.1",
      "-k",
      this.directory,
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ]);
    this.#process = spawn(file, args, { stdio: ["ignore", "ignore", "ignore"], cwd: this.directory });
    await waitFor(
      () => {
        try {
          execFileSync(join(this.#bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(this.port)], {
            stdio: "ignore",
          });
          return true;
        } catch {
          return false;
        }
      },
      `PostgreSQL on port ${this.port}`,
      20_000,
    );
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.#process = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  async dispose(): Promise<void> {
    await this.stop("SIGINT");
    rmSync(this.directory, { recursive: true, force: true });
  }
}

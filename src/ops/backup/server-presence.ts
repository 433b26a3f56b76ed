/**
 * Is a server running on this data folder? An in-place restore must refuse if so. Checked two
 * ways: the pid file the server writes at start (`RAWRXD_HOME/rawrxd.pid`, removed at stop) naming
 * a live process, and a TCP connection to the configured host and port.
 */
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { isProcessAlive } from "./backup-lock.js";

export const serverPidFileName = "rawrxd.pid";

export async function findRunningServer(options: {
  home: string;
  host: string;
  port: number;
}): Promise<string | undefined> {
  try {
    const pid = Number((await readFile(join(options.home, serverPidFileName), "utf8")).trim());
    if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid))
      return `a server (pid ${pid}, from ${join(options.home, serverPidFileName)}) is running on this data folder`;
  } catch {
    // No pid file: no server started by this version, or it stopped cleanly.
  }
  if (options.port === 0) return undefined;
  const isListening = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: options.host, port: options.port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  return isListening
    ? `something is listening on ${options.host}:${options.port} (the configured server address)`
    : undefined;
}

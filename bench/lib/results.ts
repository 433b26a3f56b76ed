/** Every benchmark's JSON output: results/<prefix>-<start time>.json and a copy under a fixed name. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Writes both files; returns the timestamped path. */
export async function writeResultFiles(
  directory: string,
  names: { prefix: string; latest: string; startedAt: string },
  report: unknown,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  const text = JSON.stringify(report, null, 2) + "\n";
  const path = join(directory, `${names.prefix}-${names.startedAt.replaceAll(":", "-")}.json`);
  await writeFile(path, text);
  await writeFile(join(directory, names.latest), text);
  return path;
}

/**
 * The benchmark's models, all in bench/.models/ (git-ignored) so one folder serves both the
 * direct variant and the server's catalog: a copy of stories260K and the synthetic 134M model.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** bench/: the models, results and llama.cpp build folders live here, beside the suites. */
export const benchDirectory = fileURLToPath(new URL("..", import.meta.url));
export const modelsDirectory = join(benchDirectory, ".models");
const storiesSource = join(benchDirectory, "..", "..", "shared", "models", "stories260K.gguf");

export type ModelKey = "stories" | "134m";
export const modelKeys: readonly ModelKey[] = ["stories", "134m"];

export interface BenchModel {
  key: ModelKey;
  label: string;
  path: string;
}

export async function prepareModel(key: ModelKey): Promise<BenchModel> {
  await mkdir(modelsDirectory, { recursive: true });
  if (key === "stories") {
    const path = join(modelsDirectory, "stories260K.gguf");
    const [source, copy] = await Promise.all([stat(storiesSource), stat(path).catch(() => undefined)]);
    if (copy?.size !== source.size) await copyFile(storiesSource, path);
    return { key, label: "stories260K", path };
  }
  const path = join(modelsDirectory, "synthetic-llama-134m.gguf");
  await makeSyntheticModel("llama-134m", path);
  return { key, label: "synthetic 134M q8_0", path };
}

/** Runs bench/lib/make-model.ts, which writes the model unless a file of the right size is there. */
async function makeSyntheticModel(preset: string, path: string): Promise<void> {
  const script = join(benchDirectory, "lib", "make-model.ts");
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", script, preset, path],
      { encoding: "utf8" },
    );
    console.error(`  ${stdout.trim()}`);
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || String(error);
    throw new Error(`bench/lib/make-model.ts could not write ${path}: ${detail}`);
  }
}

/**
 * The model catalog from `--models` (a folder, or one .gguf file) and `--no-demo-model`, and
 * what the start-up banner says about it. A folder that did not exist is created and warned
 * about: a mistyped --models would otherwise serve nothing without a word.
 */
import type { Config } from "../config/index.js";
import type { Logger } from "../core/index.js";
import { readGgufHeader } from "../gguf/index.js";
import { demoModelPath, ModelCatalog, prepareModelsLocation } from "../models/index.js";

/** What the server offers at start: for the banner. */
export interface ModelsSummary {
  /** The folder, or the one file, that --models names. */
  source: string;
  isSingleFile: boolean;
  /** Model files found (the demo model not counted). */
  count: number;
  /** Set while the bundled demo model stands in for an empty folder. */
  demoModelName: string | undefined;
}

export async function openModelCatalog(
  config: Readonly<Config>,
  logger: Logger,
): Promise<{ catalog: ModelCatalog; summary: ModelsSummary }> {
  const location = await prepareModelsLocation(config.modelsDir);
  if (location.kind === "folder" && location.wasCreated) {
    logger.warn(
      `Models folder ${config.modelsDir} did not exist: created it empty. ` +
        "Copy .gguf files into it or fix --models.",
    );
  }
  const catalog = new ModelCatalog({
    modelsDir: location.modelsDir,
    ...(location.kind === "file" ? { onlyFileName: location.fileName } : {}),
    ...(config.noDemoModel ? {} : { demoModelPath }),
    readHeader: readGgufHeader,
    logger,
  });
  const contents = await catalog.contents();
  return {
    catalog,
    summary: {
      source: config.modelsDir,
      isSingleFile: location.kind === "file",
      count: contents.fileCount,
      demoModelName: contents.demoModelName,
    },
  };
}

/**
 * `rawrxd pull SOURCE`: downloads into the local models folder with pullModel; no server
 * needed. Ctrl-C stops it and keeps the partial file for a later resume.
 */
import { AppError, formatBytes } from "../core/index.js";
import { defaultHuggingFaceEndpoint, pullModel } from "../models/index.js";
import { defaultOnInterrupt, type Command } from "./cli-io.js";
import { pullUsage } from "./help-text.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";
import { createProgressReporter } from "./progress-reporter.js";

export const pullCommand: Command = {
  name: "pull",
  usage: () => pullUsage,
  async run(args, context) {
    const { io } = context;
    const { values, positionals } = parseCommandArgs("pull", args, {
      flags: {
        ...settingsFlagOptions(clientSettingKeys),
        name: { type: "string" },
        sha256: { type: "string" },
        force: { type: "boolean" },
      },
      minPositionals: 1,
      maxPositionals: 1,
    });
    const config = configFromFlags("pull", values, { keys: clientSettingKeys, io });
    const source = positionals[0]!;
    const name = typeof values["name"] === "string" ? values["name"] : undefined;
    const progress = createProgressReporter(io.stderr, { label: name ?? lastSegment(source) });
    const abort = new AbortController();
    const removeInterrupt = (context.dependencies.onInterrupt ?? defaultOnInterrupt)(() => abort.abort());
    try {
      const result = await pullModel(source, {
        modelsDir: config.modelsDir,
        name,
        expectedSha256: typeof values["sha256"] === "string" ? values["sha256"] : undefined,
        force: values["force"] === true,
        endpoint: io.env["HF_ENDPOINT"] ?? defaultHuggingFaceEndpoint,
        token: io.env["HF_TOKEN"] ?? "",
        onProgress: (snapshot) => progress.update(snapshot),
        signal: abort.signal,
      });
      progress.end();
      if (result.resumedFromBytes > 0) {
        io.stderr.write(`Resumed from ${formatBytes(result.resumedFromBytes)} already downloaded.\n`);
      }
      io.stdout.write(`Pulled ${result.name} (${formatBytes(result.bytes)}) to ${result.path}\n`);
      io.stdout.write(`sha256 ${result.sha256}\n`);
      return 0;
    } catch (error) {
      progress.end();
      if (error instanceof AppError && error.code === "cancelled") {
        io.stderr.write(`${error.message}\n`);
        return 130;
      }
      throw error;
    } finally {
      removeInterrupt();
    }
  },
};

function lastSegment(source: string): string {
  const path = source.split("#")[0] ?? source;
  const segment = path.split("/").pop() ?? path;
  return segment.replace(/\.gguf$/i, "") || source;
}

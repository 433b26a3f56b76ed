/**
 * `rawrxd serve`: every setting of the settings table as a flag, then src/app's startServer.
 * Resolves when the server has closed; startServer owns SIGINT/SIGTERM handling, and under
 * npm or npx a launcher watch closes the server when npm dies (launcher-watch.ts).
 */
import type { Config } from "../config/index.js";
import { applyServerV8Flags, systemTime } from "../core/index.js";
import { CliError, type AppModule, type Command, type RunningServer } from "./cli-io.js";
import { serveUsage } from "./help-text.js";
import { isStartedByNpm, systemProcessProbe, watchLauncher } from "./launcher-watch.js";
import {
  allSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";

/** Imported on demand so that client commands never load the server. */
async function loadApp(): Promise<AppModule> {
  return import("../app/index.js");
}

export const serveCommand: Command = {
  name: "serve",
  usage: serveUsage,
  async run(args, context) {
    const { values } = parseCommandArgs("serve", args, {
      flags: settingsFlagOptions(allSettingKeys),
      minPositionals: 0,
      maxPositionals: 0,
    });
    const config = configFromFlags("serve", values, { keys: allSettingKeys, io: context.io });
    (context.dependencies.applyServerV8Flags ?? applyServerV8Flags)();
    const app = await (context.dependencies.loadApp ?? loadApp)();
    const server = await app.startServer(config).catch((error: unknown) => {
      throw explainListenError(error, config) ?? error;
    });
    context.io.stderr.write(`RawrXD listening on ${server.url} (${describeModels(server.models)})\n`);
    const launcherWatch = isStartedByNpm(context.io.env)
      ? watchLauncher({
          time: systemTime,
          probe: systemProcessProbe,
          onGone: () => {
            context.io.stderr.write("The npm/npx process that started RawrXD has exited: shutting down.\n");
            void server.close();
          },
        })
      : undefined;
    await server.closed;
    launcherWatch?.cancel();
    return 0;
  },
};

/** "3 models in DIR", "model x.gguf", or the demo model standing in for an empty folder. */
export function describeModels(models: RunningServer["models"]): string {
  if (models.isSingleFile) return `model ${models.source}`;
  const counted = `${models.count} ${models.count === 1 ? "model" : "models"} in ${models.source}`;
  if (models.demoModelName === undefined) return counted;
  return `${counted}; offering the demo model ${models.demoModelName} until you add one, --no-demo-model turns it off`;
}

/** EADDRINUSE and EACCES reach us as bare Node errors; say which address and what to do. */
function explainListenError(error: unknown, config: Readonly<Config>): CliError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const address = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  if (code === "EADDRINUSE") {
    return new CliError(
      `Cannot listen on ${address}: the address is already in use. Stop the other server or pick another --port.`,
      { cause: error },
    );
  }
  if (code === "EACCES") {
    return new CliError(`Cannot listen on ${address}: permission denied. Use a port above 1023.`, {
      cause: error,
    });
  }
  if (code === "EADDRNOTAVAIL") {
    return new CliError(`Cannot listen on ${address}: no network interface has that address. Check --host.`, {
      cause: error,
    });
  }
  return undefined;
}

/** The server's audit retention purge (issue #11, AU-11): at start and every 24 h on the time port. */
import type { Config } from "../config/index.js";
import type { Logger, TimePort, Timer } from "../core/index.js";
import { retentionMs, type AuditLog } from "../ops/index.js";

/** The retention purge runs at start and then this often. */
export const purgeIntervalMs = 24 * 60 * 60 * 1000;

/** Purges sealed segments past the profile's retention at start and every 24 h (each purge is a `data` record). */
export function startRetentionPurge(
  log: AuditLog,
  options: { config: Readonly<Config>; logger: Logger; time: TimePort },
): { idle(): Promise<void>; stop(): Promise<void> } {
  const keepMs = retentionMs(options.config.auditProfile);
  // Runs one after another: a run that finds the previous one still going waits for it.
  let running: Promise<void> = Promise.resolve();
  const purgeOnce = async (): Promise<void> => {
    try {
      const { segments } = await log.purgeExpired(keepMs);
      if (segments.length > 0)
        options.logger.info("Audit segments past retention purged", {
          profile: options.config.auditProfile,
          segments,
        });
    } catch (error) {
      options.logger.error("Audit retention purge failed", { error: String(error) });
    }
  };
  const purge = (): void => {
    running = running.then(purgeOnce);
  };
  purge();
  const timer: Timer = options.time.setInterval(purge, purgeIntervalMs).unref();
  return {
    idle: () => running,
    async stop() {
      timer.cancel();
      await running;
    },
  };
}

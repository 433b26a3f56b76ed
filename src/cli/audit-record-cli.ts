/**
 * Puts what a CLI command did on the audit record (issue #11: key changes and audit reads, with
 * key id `cli` and the OS user): directly when no server holds the log, else handed to the
 * server through audit/inbox/ (docs/decisions/0015). The command's own work is done by then, so
 * a record that cannot be written is a warning on standard error, not a failed command.
 */
import type { Config } from "../config/index.js";
import { systemTime } from "../core/index.js";
import { auditPaths, describeCliRecord, recordFromCli, type CliAuditRequest } from "../ops/index.js";
import type { CommandContext } from "./cli-io.js";

export async function recordCliAction(
  command: string,
  request: CliAuditRequest,
  options: { config: Readonly<Config>; context: CommandContext },
): Promise<void> {
  const { config, context } = options;
  if (config.noAudit) return;
  const paths = auditPaths(config.home, context.io.env["RAWRXD_AUDIT_KEY_FILE"]);
  try {
    const outcome = await recordFromCli(request, {
      paths,
      time: context.dependencies.time ?? systemTime,
      ...(config.auditWitness === "" ? {} : { witnessDirectory: config.auditWitness }),
    });
    const warning = describeCliRecord(outcome);
    if (warning !== undefined) context.io.stderr.write(`rawrxd ${command}: ${warning}\n`);
  } catch (error) {
    context.io.stderr.write(
      `rawrxd ${command}: Warning: the audit record of this action could not be written to ${paths.directory} ` +
        `(${(error as Error).message}). Check the folder's permissions.\n`,
    );
  }
}

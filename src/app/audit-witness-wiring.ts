/**
 * The PostgreSQL audit witness in the server (issue #18, ADR 0037): built from
 * `--audit-witness-url` with this node's id, key and audit folder, and reported as it changes:
 * the first failure of a run of them and the recovery are logged and recorded, a refusal is
 * critical. Never the URL's password.
 */
import type { Config } from "../config/index.js";
import type { Logger, TimePort } from "../core/index.js";
import {
  PostgresWitness,
  checkpointBacklog,
  witnessUrlForDisplay,
  type AuditEntry,
  type AuditSigningKey,
  type PostgresWitnessStatus,
} from "../ops/index.js";

/** Undefined without --audit-witness-url. */
export function createPostgresWitness(options: {
  config: Readonly<Config>;
  nodeId: string;
  directory: string;
  signingKey: AuditSigningKey;
  time: TimePort;
  onStateChange: (status: PostgresWitnessStatus) => void;
}): PostgresWitness | undefined {
  const { signingKey, directory } = options;
  const url = auditWitnessUrlOf(options.config);
  if (url === "") return undefined;
  return new PostgresWitness({
    url,
    nodeId: options.nodeId,
    publicKey: signingKey.publicKey,
    auditDirectory: directory,
    time: options.time,
    // Checkpoints signed while no witness took them (a stop during an outage) go first.
    backlog: (afterSeq) => checkpointBacklog(directory, { publicKey: signingKey.publicKey, afterSeq }),
    onStateChange: options.onStateChange,
  });
}

/** Logs each change of the PostgreSQL witness and records it (never the URL's password). */
export function witnessReporter(options: {
  logger: Logger;
  append: (entry: AuditEntry) => void;
  url: string;
}): (status: PostgresWitnessStatus) => void {
  const { logger, append } = options;
  let wasFailing = false;
  return (status) => {
    const fields = {
      witness: witnessUrlForDisplay(options.url),
      pending: status.pending,
      reason: status.lastError,
    };
    if (status.state === "writing") return;
    if (status.state === "retrying" && !wasFailing) {
      wasFailing = true;
      logger.error(
        "Audit checkpoints cannot reach the PostgreSQL witness; queued and retried, serving goes on",
        fields,
      );
      append({ type: "system", action: "audit-witness-unreachable", level: "warning", details: fields });
    } else if (status.state === "idle" && wasFailing) {
      wasFailing = false;
      logger.info("Audit checkpoints reach the PostgreSQL witness again; the queue is written", fields);
      append({
        type: "system",
        action: "audit-witness-restored",
        details: { ...fields, written: status.written },
      });
    } else if (status.state === "refused") {
      logger.error(
        "CRITICAL: the PostgreSQL audit witness refuses this node; checkpoints stay local until an operator fixes it",
        {
          ...fields,
          severity: "critical",
        },
      );
      append({ type: "system", action: "audit-witness-refused", level: "error", details: fields });
    }
  };
}

/** --audit-witness-url; with --store alone, the shared store's PostgreSQL witnesses the checkpoints too. */
export function auditWitnessUrlOf(config: Readonly<Config>): string {
  return config.auditWitnessUrl !== "" ? config.auditWitnessUrl : config.store;
}

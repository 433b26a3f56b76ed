/**
 * ComplianceLogger: an append-only, hash-chained audit log with Ed25519-signed checkpoints,
 * offline verification with only the public key, retention, query/export and redaction.
 */
export {
  anonymousLocal,
  auditLevels,
  auditTypes,
  syslogSeverity,
  type AuditEntry,
  type AuditLevel,
  type AuditOutcome,
  type AuditRecord,
  type AuditType,
} from "./audit-record.js";
export { type Checkpoint } from "./checkpoints.js";
export { AuditLog, AuditWriteError, type AuditHealth, type AuditLogOptions } from "./audit-log.js";
export { openSegmentFile, type AuditSegmentFile, type OpenSegmentFile } from "./audit-files.js";
export {
  generateSigningKey,
  loadOrCreateSigningKey,
  publicKeyId,
  publicKeyPem,
  readPublicKey,
  type AuditSigningKey,
} from "./signing-key.js";
export { verifyAuditLog, type VerifyAuditLogOptions } from "./verify-audit-log.js";
export {
  PostgresWitness,
  type PostgresWitnessOptions,
  type PostgresWitnessState,
  type PostgresWitnessStatus,
} from "./postgres-witness.js";
export { readPostgresWitness, witnessUrlForDisplay, type WitnessConnection } from "./postgres-connection.js";
export { retryDelayMs, type RetryPolicy } from "./witness-retry.js";
export { checkpointBacklog, type WitnessItem } from "./witness-backlog.js";
export {
  WitnessConflictError,
  WitnessKeyError,
  witnessCheckpointsTable,
  witnessNodesTable,
} from "./witness-table.js";
export {
  verifyAuditCluster,
  witnessTableLabel,
  type ClusterNodeReport,
  type ClusterVerifyReport,
  type VerifyAuditClusterOptions,
} from "./verify-cluster.js";
export {
  findingKinds,
  formatFinding,
  type AuditFinding,
  type AuditFindingKind,
  type AuditVerifyReport,
  type FindingSeverity,
} from "./verify-findings.js";
export { auditRecordsCsv, auditRecordsJsonl, queryAuditLog, type AuditQuery } from "./audit-query.js";
export { auditProfiles, retentionDays, retentionMs, type AuditProfile } from "./retention.js";
export { redactContent } from "./redact.js";
export { canonicalJson } from "./canonical-json.js";
export { auditPaths, type AuditPaths } from "./audit-paths.js";
export { createAuditRoutes, type AuditRead, type AuditRoutesOptions } from "./audit-routes.js";
export { auditTimeForms, parseAuditTime } from "./audit-time.js";
export { AuditLockedError, lockFileName, type LockHolder, type WriterKind } from "./writer-lock.js";
export { AuditInbox, inboxDirectory, inboxFolderName, type AuditInboxOptions } from "./audit-inbox.js";
export { cliAuditEntry, cliKeyId, type CliActor, type CliAuditRequest } from "./cli-entries.js";
export {
  describeCliRecord,
  recordFromCli,
  type CliRecordOutcome,
  type CliRecordOptions,
} from "./cli-record.js";

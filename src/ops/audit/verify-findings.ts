/** What `verifyAuditLog` reports: one finding per problem, with where it is. */
export const findingKinds = [
  "modified-record",
  "deleted-records",
  "inserted-record",
  "swapped-records",
  "out-of-order",
  "duplicated-sequence",
  "deleted-segment",
  "truncated-tail",
  "forged-checkpoint",
  "missing-checkpoints",
  "checkpoint-mismatch",
  "witness-mismatch",
  "clock-backwards",
  "torn-tail",
  "unsigned-tail",
  "purged",
  "missing-node",
  "unregistered-node",
  "key-mismatch",
  "unwitnessed-tail",
] as const;
export type AuditFindingKind = (typeof findingKinds)[number];

/** `error`: the log was altered; `warning`: worth a look, not proof of tampering; `notice`: explained. */
export type FindingSeverity = "error" | "warning" | "notice";

export interface AuditFinding {
  kind: AuditFindingKind;
  severity: FindingSeverity;
  message: string;
  /** Segment file name, when the finding has a place in one. */
  segment?: string;
  /** 1-based line in that segment (or in checkpoints.jsonl for checkpoint findings). */
  line?: number;
  seq?: number;
}

export interface AuditVerifyReport {
  /** True when no finding has severity `error`. */
  intact: boolean;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Checkpoints whose signature verified and whose head matched the log. */
  checkpointsVerified: number;
  witnessCheckpointsVerified: number;
  findings: AuditFinding[];
}

export function formatFinding(finding: AuditFinding): string {
  const place = [
    finding.segment === undefined
      ? undefined
      : finding.segment + (finding.line === undefined ? "" : `:${finding.line}`),
    finding.seq === undefined ? undefined : `seq ${finding.seq}`,
  ]
    .filter((part) => part !== undefined)
    .join(", ");
  return `${finding.severity.toUpperCase()} ${finding.kind}${place === "" ? "" : ` (${place})`}: ${finding.message}`;
}

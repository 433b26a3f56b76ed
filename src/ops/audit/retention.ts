/** Retention classes of the audit log (issue #11; HIPAA 45 CFR 164.316(b)(2): six years). */
export const auditProfiles = ["standard", "hipaa"] as const;
export type AuditProfile = (typeof auditProfiles)[number];

const dayMs = 86_400_000;

/** Days a record is kept at least; six years count their leap days. */
export const retentionDays: Readonly<Record<AuditProfile, number>> = {
  standard: 365,
  hipaa: 6 * 365 + 2,
};

export function retentionMs(profile: AuditProfile): number {
  return retentionDays[profile] * dayMs;
}

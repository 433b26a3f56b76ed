/**
 * What the CLI may put on record (issue #11: keys created or revoked, audit reads), and the one
 * strict schema that checks it: the same entry is appended directly when no server holds the
 * log, or read back from `audit/inbox/` by the server that does. The inbox is a write path into
 * the audit log, so only these types and actions, with these fields, get through.
 */
import { z } from "zod";
import { priorities, roles } from "../../core/index.js";
import type { AuditEntry } from "./audit-record.js";

/** The key id on every record the CLI causes. */
export const cliKeyId = "cli";

const text = z.string().max(200);
const time = z.string().max(64).nullable();
const count = z.number().int().min(0);
const keyObject = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const requestSchema = z.discriminatedUnion("action", [
  z.strictObject({
    type: z.literal("authentication"),
    action: z.literal("key-created"),
    object: keyObject,
    details: z.strictObject({ name: text, role: z.enum(roles), maxPriority: z.enum(priorities) }),
  }),
  z.strictObject({
    type: z.literal("authentication"),
    action: z.literal("key-revoked"),
    object: keyObject,
    details: z.strictObject({ name: text }),
  }),
  z.strictObject({
    type: z.literal("data"),
    action: z.literal("audit-verify"),
    object: z.literal("audit-log"),
    details: z.strictObject({
      intact: z.boolean(),
      records: count,
      findings: count,
      from: time,
      to: time,
      witness: z.boolean(),
    }),
  }),
  z.strictObject({
    type: z.literal("data"),
    action: z.literal("audit-verify-cluster"),
    object: z.literal("audit-log"),
    details: z.strictObject({
      intact: z.boolean(),
      nodes: count,
      notIntact: z.array(text).max(256),
      findings: count,
    }),
  }),
  z.strictObject({
    type: z.literal("data"),
    action: z.literal("audit-query"),
    object: z.literal("audit-log"),
    details: z.strictObject({
      format: z.enum(["jsonl", "csv"]),
      records: count,
      since: time,
      until: time,
      types: z.array(z.string().max(32)).max(6).nullable(),
      key: text.nullable(),
      requestId: text.nullable(),
    }),
  }),
]);

/** One thing the CLI did, as the CLI describes it. */
export type CliAuditRequest = z.infer<typeof requestSchema>;

/** Who ran the CLI: the OS user and its process. */
export interface CliActor {
  osUser: string;
  pid: number;
}

const fileSchema = z.strictObject({
  version: z.literal(1),
  request: requestSchema,
  actor: z.strictObject({ osUser: text, pid: z.number().int().positive() }),
});

export type InboxFile = z.infer<typeof fileSchema>;

/** Checks an inbox file's parsed JSON; the reason names the first field that failed. */
export function parseInboxFile(value: unknown): { file: InboxFile } | { reason: string } {
  const result = fileSchema.safeParse(value);
  if (result.success) return { file: result.data };
  const issue = result.error.issues[0];
  return { reason: `${issue?.path.join(".") || "(file)"}: ${issue?.message ?? "invalid"}` };
}

/** The record: key id `cli`, the OS user and pid in details, and how it reached the log. */
export function cliAuditEntry(
  request: CliAuditRequest,
  actor: CliActor,
  via: { via: "direct" } | { via: "inbox"; fileUid: number },
): AuditEntry {
  return {
    type: request.type,
    action: request.action,
    object: request.object,
    keyId: cliKeyId,
    address: "local",
    details: { ...request.details, osUser: actor.osUser, pid: actor.pid, ...via },
  };
}

/**
 * Zero lost audit records, checked the way an operator would after the server stopped:
 * `rawrxd audit query --type inference` lists the inference records (matched to the client's
 * requests by X-Request-Id), and `rawrxd audit verify` must pass.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cleanEnvironment, rawrxdBin } from "../lib/server-process.js";

export interface AuditCheck {
  /** Inference records in the log. */
  inferenceRecords: number;
  /** Requests the client saw served (200 + complete stream). */
  servedRequests: number;
  /** Served requests without an inference record: the property says zero. */
  missingRecords: number;
  /** A few of the missing request ids. */
  missingExamples: string[];
  /** Served requests whose record does not say success. */
  servedNotSuccess: number;
  /** A few of them: request id and the record's outcome and finish reason. */
  servedNotSuccessExamples: string[];
  /** Client-cancelled requests (aborted, disconnected, DELETE) that have a record, of how many. */
  cancelledRecorded: { recorded: number; of: number };
  /** Outcomes of the inference records (success, cancelled, denied, failure). */
  recordOutcomes: Record<string, number>;
  verifyPassed: boolean;
  /** The first line `rawrxd audit verify` printed (INTACT: N records …). */
  verifySummary: string;
}

const run = promisify(execFile);

async function rawrxd(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [rawrxdBin, ...args], {
      env: cleanEnvironment(),
      maxBuffer: 512 * 1024 * 1024,
      encoding: "utf8",
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof failed.code === "number" ? failed.code : 1,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? failed.message,
    };
  }
}

export async function checkAudit(
  home: string,
  requests: { served: readonly string[]; cancelled: readonly string[] },
): Promise<AuditCheck> {
  const query = await rawrxd(["audit", "query", "--home", home, "--type", "inference"]);
  if (query.code !== 0) {
    throw new Error(`rawrxd audit query failed (exit ${query.code}): ${query.stderr.slice(0, 500)}`);
  }
  const outcomes = new Map<string, string>();
  const finishReasons = new Map<string, unknown>();
  const recordOutcomes: Record<string, number> = {};
  let inferenceRecords = 0;
  for (const line of query.stdout.split("\n")) {
    if (line.trim() === "") continue;
    const record = JSON.parse(line) as {
      requestId: string | null;
      outcome: string;
      details: { finishReason?: unknown };
    };
    inferenceRecords += 1;
    recordOutcomes[record.outcome] = (recordOutcomes[record.outcome] ?? 0) + 1;
    if (record.requestId === null) continue;
    outcomes.set(record.requestId, record.outcome);
    finishReasons.set(record.requestId, record.details.finishReason);
  }
  const missing = requests.served.filter((id) => !outcomes.has(id));
  const servedNotSuccess = requests.served.filter((id) => {
    const outcome = outcomes.get(id);
    return outcome !== undefined && outcome !== "success";
  });
  const verify = await rawrxd(["audit", "verify", "--home", home]);
  return {
    inferenceRecords,
    servedRequests: requests.served.length,
    missingRecords: missing.length,
    missingExamples: missing.slice(0, 5),
    servedNotSuccess: servedNotSuccess.length,
    servedNotSuccessExamples: servedNotSuccess
      .slice(0, 5)
      .map((id) => `${id} ${outcomes.get(id)} (${String(finishReasons.get(id))})`),
    cancelledRecorded: {
      recorded: requests.cancelled.filter((id) => outcomes.has(id)).length,
      of: requests.cancelled.length,
    },
    recordOutcomes,
    verifyPassed: verify.code === 0 && verify.stdout.startsWith("INTACT"),
    verifySummary:
      (verify.stdout.split("\n")[0] ?? verify.stderr).trim() || verify.stderr.trim().slice(0, 300),
  };
}

/**
 * A writer process for the crash test: appends records in a loop, concurrently, and prints
 * each seq once `record()` has resolved (acknowledged = on disk). The test kills it with SIGKILL.
 * argv: audit folder, private key file.
 */
import { AuditLog } from "./audit-log.js";
import { loadOrCreateSigningKey } from "./signing-key.js";

const [directory, keyPath] = process.argv.slice(2);
const log = await AuditLog.open({
  directory: directory!,
  signingKey: await loadOrCreateSigningKey(keyPath!),
  nodeId: "node-child",
  checkpointEveryRecords: 50,
});
process.stdout.write("ready\n");
let index = 0;
for (;;) {
  const burst = Array.from({ length: 32 }, () => {
    index += 1;
    return log.record({
      type: "inference",
      action: "generate",
      requestId: `child-${index}`,
      details: { padding: "x".repeat(200 + (index % 97)) },
    });
  });
  const records = await Promise.all(burst);
  process.stdout.write(records.map((record) => `${record.seq}\n`).join(""));
}

/**
 * A backup process for the kill test: starts an incremental whose chunk writer stalls after a few
 * chunks and prints "stalled" then; the test kills it with SIGKILL mid-backup.
 * argv: home, backup folder, signing key file.
 */
import { join } from "node:path";
import { BackupManager } from "./backup-manager.js";
import { writeFileDurably } from "./chunk-store.js";
import { testChunker } from "./backup-fixture.testing.js";

const [home, backupDir, signingKeyFile] = process.argv.slice(2);
let writes = 0;
const manager = await BackupManager.open({
  backupDir: backupDir!,
  home: home!,
  modelsDir: join(home!, "models"),
  auditPrivateKey: join(home!, "audit-key", "ed25519.pem"),
  signingKeyFile: signingKeyFile!,
  chunker: testChunker,
  chunkWriter: async (path, data) => {
    writes += 1;
    if (writes > 3) {
      process.stdout.write("stalled\n");
      await new Promise(() => undefined);
    }
    await writeFileDurably(path, data);
  },
});
await manager.create("full");

/**
 * Where the audit log lives under RAWRXD_HOME. The signing key sits in its own folder beside
 * `audit/`, never inside it, so copying or handing over the audit folder never hands over the key.
 */
import { join } from "node:path";

export interface AuditPaths {
  directory: string;
  privateKey: string;
  publicKey: string;
}

/** `privateKeyFile` (env RAWRXD_AUDIT_KEY_FILE) moves the key, e.g. onto a secrets mount. */
export function auditPaths(home: string, privateKeyFile?: string): AuditPaths {
  const privateKey = privateKeyFile ?? join(home, "audit-key", "ed25519.pem");
  return { directory: join(home, "audit"), privateKey, publicKey: `${privateKey}.pub` };
}

import { AppError, isLoopback } from "../core/index.js";
import type { Config } from "../config/index.js";

export { isLoopback };

/**
 * Refuses to expose an unauthenticated server beyond this machine unless told so loudly.
 * `hasManagedKeys`: an active key exists in the store (`rawrxd keys create`).
 */
export function checkExposure(config: Readonly<Config>, hasManagedKeys = false): string | undefined {
  if (isLoopback(config.host) || config.apiKeys.length > 0 || hasManagedKeys) return undefined;
  if (!config.insecureNoAuth) {
    throw new AppError(
      "bad-request",
      `Refusing to listen on ${config.host} without API keys: anyone who can reach it could use the server. Create a key (rawrxd keys create --name NAME --role admin) or set --api-keys (RAWRXD_API_KEYS), or pass --insecure-no-auth to accept the risk.`,
    );
  }
  return `Listening on ${config.host} WITHOUT authentication (--insecure-no-auth): anyone who can reach port ${config.port} can use this server.`;
}

import { isIP } from "node:net";
import { AppError } from "../core/index.js";
import type { Config } from "../config/index.js";

const loopbackHosts = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopback(host: string): boolean {
  // Only literal 127.0.0.0/8 addresses: a hostname such as 127.example.com is not loopback.
  return loopbackHosts.has(host) || (isIP(host) === 4 && host.startsWith("127."));
}

/** Refuses to expose an unauthenticated server beyond this machine unless told so loudly. */
export function checkExposure(config: Readonly<Config>): string | undefined {
  if (isLoopback(config.host) || config.apiKeys.length > 0) return undefined;
  if (!config.insecureNoAuth) {
    throw new AppError(
      "bad-request",
      `Refusing to listen on ${config.host} without API keys: anyone who can reach it could use the server. Set --api-keys (or RAWRXD_API_KEYS), or pass --insecure-no-auth to accept the risk.`,
    );
  }
  return `Listening on ${config.host} WITHOUT authentication (--insecure-no-auth): anyone who can reach port ${config.port} can use this server.`;
}

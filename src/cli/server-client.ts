/**
 * HTTP client of a running RawrXD server, used by ls, ps, show and run. Failures become
 * CliErrors that say what to do: start the server, fix the key, or read the server's message.
 */
import type { Config } from "../config/index.js";
import { CliError } from "./cli-io.js";

export interface ServerClientOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  fetchImpl?: typeof fetch;
}

/** `RAWRXD_URL` wins; else `http://host:port`, wildcard hosts mapped to loopback. */
export function serverBaseUrl(
  config: Pick<Config, "host" | "port">,
  env: Record<string, string | undefined>,
): string {
  const override = env["RAWRXD_URL"]?.trim();
  if (override !== undefined && override !== "") return override.replace(/\/+$/, "");
  let host = config.host.replace(/^\[(.*)\]$/, "$1");
  if (host === "0.0.0.0" || host === "::" || host === "") host = "127.0.0.1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}

export function createServerClient(
  config: Pick<Config, "host" | "port">,
  env: Record<string, string | undefined>,
): ServerClient {
  const apiKey = env["RAWRXD_API_KEY"];
  return new ServerClient({
    baseUrl: serverBaseUrl(config, env),
    apiKey: apiKey === "" ? undefined : apiKey,
  });
}

export class ServerClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ServerClientOptions) {
    this.baseUrl = options.baseUrl;
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetchImpl ?? fetch;
  }

  /** Sends a request and returns the response when its status is 2xx; throws CliError otherwise. */
  async request(
    method: "GET" | "POST",
    path: string,
    options: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (this.#apiKey !== undefined) headers["authorization"] = `Bearer ${this.#apiKey}`;
    let response: Response;
    try {
      response = await this.#fetch(this.baseUrl + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      throw new CliError(
        `Cannot reach the RawrXD server at ${this.baseUrl} (${describeConnectError(error)}). ` +
          'Start it with "rawrxd serve".',
        { cause: error },
      );
    }
    if (!response.ok) throw await this.#httpError(response);
    return response;
  }

  /** `request` plus JSON parsing of the body. */
  async requestJson(
    method: "GET" | "POST",
    path: string,
    options: { body?: unknown } = {},
  ): Promise<unknown> {
    const response = await this.request(method, path, options);
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new CliError(`The server at ${this.baseUrl} answered ${path} with a body that is not JSON.`);
    }
  }

  async #httpError(response: Response): Promise<CliError> {
    const text = await response.text().catch(() => "");
    let message = `HTTP ${response.status} ${response.statusText}`.trim();
    const serverMessage = errorMessageFromBody(text);
    if (serverMessage !== undefined) message = `${serverMessage} (HTTP ${response.status})`;
    if (response.status === 401 && this.#apiKey === undefined) {
      message += ". The server needs an API key: set RAWRXD_API_KEY";
    }
    return new CliError(`Error: ${message}`);
  }
}

/** Ollama `{"error":"..."}` or OpenAI `{"error":{"message":"..."}}`. */
export function errorMessageFromBody(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: unknown } | null;
    const error = body?.error;
    if (typeof error === "string") return error;
    if (error !== null && typeof error === "object") {
      const message = (error as { message?: unknown }).message;
      if (typeof message === "string") return message;
    }
  } catch {
    // Not JSON: fall through to the plain text, if short enough to print.
  }
  const trimmed = text.trim();
  return trimmed !== "" && trimmed.length <= 300 && !trimmed.startsWith("<") ? trimmed : undefined;
}

/** `fetch failed` hides the reason; its cause says `connect ECONNREFUSED 127.0.0.1:11435`. */
export function describeConnectError(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const details = cause as { code?: unknown; syscall?: unknown; message?: unknown } | undefined;
  if (typeof details?.code === "string") {
    return `${typeof details.syscall === "string" ? details.syscall : "connect"} ${details.code}`;
  }
  if (typeof details?.message === "string" && details.message !== "") return details.message;
  return String(error);
}

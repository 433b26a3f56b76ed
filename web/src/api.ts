/**
 * The shell's only way to the server: its public HTTP API, same origin, with the signed-in key
 * as a bearer header. Errors carry the server's message (every dialect puts it in error.message).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  key: string | undefined;

  constructor(key: string | undefined) {
    this.key = key;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key === undefined ? {} : { Authorization: `Bearer ${this.key}` }), ...extra };
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(path, {
      ...init,
      headers: this.headers((init.headers as Record<string, string> | undefined) ?? {}),
    });
    if (!response.ok) throw new ApiError(response.status, await errorMessageOf(response));
    return response;
  }

  async get<T>(path: string): Promise<T> {
    return (await (await this.request(path)).json()) as T;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    const response = await this.request(path, {
      method: "POST",
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
    });
    return (await response.json()) as T;
  }

  async delete<T>(path: string): Promise<T> {
    return (await (await this.request(path, { method: "DELETE" })).json()) as T;
  }
}

export async function errorMessageOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: string | { message?: string } };
    if (typeof body.error === "string") return body.error;
    if (body.error?.message !== undefined) return body.error.message;
  } catch {
    // not JSON: the text itself
  }
  return text === "" ? `HTTP ${response.status}` : text;
}

/** A request id the server accepts in X-Request-Id, so Stop can name the request. */
export function newRequestId(): string {
  return `shell-${crypto.randomUUID()}`;
}

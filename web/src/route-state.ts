/**
 * What a panel shows for one route: loading, its answer, a component that is not there yet
 * (404: say which one it waits for — never fake data), or the server's error message.
 */
import { ApiError } from "./api.js";

export type RouteState<T> =
  { kind: "loading" } | { kind: "ok"; value: T } | { kind: "missing" } | { kind: "error"; message: string };

export function failedState<T>(error: unknown): RouteState<T> {
  if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return { kind: "missing" };
  return { kind: "error", message: error instanceof Error ? error.message : String(error) };
}

export async function settle<T>(load: () => Promise<T>): Promise<RouteState<T>> {
  try {
    return { kind: "ok", value: await load() };
  } catch (error) {
    return failedState<T>(error);
  }
}

import { describe, expect, it } from "vitest";
import { ApiError } from "./api.js";
import { settle } from "./route-state.js";

describe("route states", () => {
  it("a 404 means the component is not there yet; other failures keep the server's message", async () => {
    expect(await settle(async () => ({ ok: 1 }))).toEqual({ kind: "ok", value: { ok: 1 } });
    expect(await settle(() => Promise.reject(new ApiError(404, "No route for GET /v1/sla/status.")))).toEqual(
      {
        kind: "missing",
      },
    );
    expect(await settle(() => Promise.reject(new ApiError(403, "needs an admin key")))).toEqual({
      kind: "error",
      message: "needs an admin key",
    });
  });
});

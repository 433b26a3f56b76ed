import { describe, expect, it } from "vitest";
import { allowedMethods } from "./allowed-methods.js";

const routes = [
  { method: "ALL", path: "/*" },
  { method: "POST", path: "/api/chat" },
  { method: "GET", path: "/v1/queue" },
  { method: "DELETE", path: "/v1/requests/:id" },
  { method: "GET", path: "/v1/requests/:id" },
];

describe("allowedMethods", () => {
  it("lists the methods routed for a path, middleware excluded", () => {
    expect(allowedMethods(routes, "/api/chat")).toEqual(["POST"]);
    expect(allowedMethods(routes, "/v1/queue")).toEqual(["GET", "HEAD"]);
    expect(allowedMethods(routes, "/v1/requests/abc")).toEqual(["DELETE", "GET", "HEAD"]);
  });

  it("finds nothing for an unknown path", () => {
    expect(allowedMethods(routes, "/api/nothing")).toEqual([]);
    expect(allowedMethods(routes, "/v1/requests/a/b")).toEqual([]);
  });
});

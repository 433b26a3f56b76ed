import { describe, expect, it } from "vitest";
import { acceptsHtml, isMonitoringRead, isPublicShellRequest, mayUse } from "./access-rules.js";

describe("mayUse", () => {
  it("lets a user run inference, list models and see its requests", () => {
    for (const [method, path] of [
      ["POST", "/v1/chat/completions"],
      ["POST", "/api/chat"],
      ["GET", "/v1/models"],
      ["HEAD", "/api/tags"],
      ["GET", "/v1/queue/req-1"],
      ["DELETE", "/v1/requests/req-1"],
      ["GET", "/v1/models/"],
    ] as const)
      expect(mayUse("user", { method, path }), `${method} ${path}`).toBe(true);
  });

  it("keeps everything else, unknown routes included, for admins", () => {
    for (const [method, path] of [
      ["GET", "/v1/admin/keys"],
      ["POST", "/v1/admin/keys"],
      ["GET", "/v1/admin/keys/"],
      ["GET", "/v1/metrics"],
      ["GET", "/metrics"],
      ["POST", "/api/pull"],
      ["DELETE", "/api/delete"],
      ["DELETE", "/v1/requests/a/b"],
      ["GET", "/v1/some-future-admin-route"],
    ] as const) {
      expect(mayUse("user", { method, path }), `${method} ${path}`).toBe(false);
      expect(mayUse("admin", { method, path })).toBe(true);
    }
  });
});

describe("isMonitoringRead", () => {
  it("names the polled metrics and GPU reads, not their writes or other admin routes", () => {
    for (const path of [
      "/metrics",
      "/v1/metrics",
      "/v1/metrics/requests",
      "/v1/gpu",
      "/v1/gpu/",
      "/v1/sla/status",
      "/v1/sla/incidents",
    ])
      expect(isMonitoringRead({ method: "GET", path }), path).toBe(true);
    for (const [method, path] of [
      ["GET", "/v1/admin/keys"],
      ["GET", "/v1/audit"],
      ["POST", "/v1/metrics"],
      ["GET", "/v1/metricsx"],
      ["GET", "/v1/sla/report"],
    ] as const)
      expect(isMonitoringRead({ method, path }), `${method} ${path}`).toBe(false);
  });
});

describe("isPublicShellRequest", () => {
  it("opens the page to browsers and the hashed assets to anyone, and nothing else", () => {
    const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    expect(isPublicShellRequest({ method: "GET", path: "/", accept: html })).toBe(true);
    expect(isPublicShellRequest({ method: "HEAD", path: "/", accept: "text/html" })).toBe(true);
    expect(isPublicShellRequest({ method: "GET", path: "/assets/index-cNaZaujU.js", accept: "*/*" })).toBe(
      true,
    );
    expect(isPublicShellRequest({ method: "GET", path: "/favicon.svg", accept: undefined })).toBe(true);
    for (const [method, path, accept] of [
      ["GET", "/", undefined],
      ["GET", "/", "*/*"],
      ["GET", "/", "application/json"],
      ["POST", "/", "text/html"],
      ["GET", "/v1/models", "text/html"],
      ["GET", "/assets/../v1/models", "*/*"],
      ["GET", "/assets/data.json", "*/*"],
      ["GET", "/assets/sub/x.js", "*/*"],
      ["DELETE", "/assets/x.js", "*/*"],
    ] as const)
      expect(isPublicShellRequest({ method, path, accept }), `${method} ${path} ${accept}`).toBe(false);
  });

  it("reads Accept for text/html as its own media type, parameters allowed", () => {
    expect(acceptsHtml("text/html;q=0.9")).toBe(true);
    expect(acceptsHtml("application/json, text/html")).toBe(true);
    expect(acceptsHtml("text/htmlx")).toBe(false);
    expect(acceptsHtml(undefined)).toBe(false);
  });
});

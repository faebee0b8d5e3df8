import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, errorOf, relay } from "./relay-helpers.ts";

const allowed = "https://ops.example.com";

describe("CORS on the admin API (RELAY_CORS_ORIGINS, exact match)", () => {
  it.each(["/v1/endpoints", "/v1/endpoints/inbox/pause", "/metrics"])(
    "answers a preflight for %s from an allowed origin without auth",
    async (path) => {
      const response = await SELF.fetch(`${relay}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: allowed,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
      expect(response.headers.get("access-control-allow-methods")).toContain("POST");
      expect(response.headers.get("access-control-allow-headers")).toContain("authorization");
      expect(response.headers.get("vary")).toContain("Origin");
    },
  );

  it("refuses a preflight from other origins, including near misses", async () => {
    for (const origin of [
      "https://evil.example.com",
      "https://ops.example.com.evil.net",
      "http://ops.example.com",
      "null",
    ]) {
      const response = await SELF.fetch(`${relay}/v1/endpoints`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET" },
      });
      expect(response.status, origin).toBe(403);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect((await errorOf(response)).code).toBe("cors_origin_refused");
    }
  });

  it("adds Access-Control-Allow-Origin to actual responses only for allowed origins", async () => {
    const ok = await admin("/v1/endpoints", { headers: { origin: allowed } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(ok.headers.get("vary")).toContain("Origin");
    const second = await admin("/metrics", { headers: { origin: "http://127.0.0.1:5173" } });
    expect(second.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    const denied = await admin("/v1/endpoints", {
      headers: { origin: "https://evil.example.com" },
    });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    // Errors carry it too, so a browser app can read the 401.
    const unauthorized = await SELF.fetch(`${relay}/v1/endpoints`, {
      headers: { origin: allowed },
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("access-control-allow-origin")).toBe(allowed);
  });

  it("ingest and healthz have no CORS", async () => {
    const preflight = await SELF.fetch(`${relay}/v1/events`, {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const health = await SELF.fetch(`${relay}/healthz`, { headers: { origin: allowed } });
    expect(health.headers.get("access-control-allow-origin")).toBeNull();
  });
});

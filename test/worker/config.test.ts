import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { type Env, loadRelayConfig, RelayConfigError } from "../../worker/env.ts";
import { partitionOf, queueName } from "../../worker/partition.ts";
import { errorOf, relay, secrets, withEnv } from "./relay-helpers.ts";

const base: Env = { ENDPOINT_QUEUE: env.ENDPOINT_QUEUE };
const secretMarker = "super-secret-value-5d1f";

function failure(overrides: Partial<Env>): RelayConfigError {
  try {
    loadRelayConfig({
      ...base,
      RELAY_ENDPOINTS: '[{"name":"a","url":"https://a.example"}]',
      ...overrides,
    });
  } catch (error) {
    if (error instanceof RelayConfigError) return error;
    throw error;
  }
  throw new Error("expected a RelayConfigError");
}

describe("loadRelayConfig", () => {
  it("parses endpoints with the core's defaults and the relay's settings", () => {
    const config = loadRelayConfig({
      ...base,
      RELAY_ENDPOINTS: JSON.stringify([
        { name: "a", url: "https://a.example/in", timeout: "2s", ignore: { actions: ["pull"] } },
        { name: "b", url: "https://b.example/in", partitions: 3, disabled: true },
      ]),
      RELAY_INGEST_TOKENS: " one, two ,,",
      RELAY_ADMIN_TOKEN: " admin ",
      RELAY_ALLOW_ANONYMOUS: "TRUE",
      RELAY_MAX_BODY_BYTES: "2048",
      RELAY_CORS_ORIGINS: "https://x.example, http://127.0.0.1:3000",
    });
    expect(config.endpoints.map((e) => [e.name, e.timeout, e.partitions, e.disabled])).toEqual([
      ["a", 2000, 1, false],
      ["b", 1000, 3, true],
    ]);
    expect(config.endpoints[0]!.ignore.actions).toEqual(["pull"]);
    expect(config.ingestTokens).toEqual(["one", "two"]);
    expect(config.adminToken).toBe("admin");
    expect(config.allowAnonymous).toBe(true);
    expect(config.maxBodyBytes).toBe(2048);
    expect(config.corsOrigins).toEqual(["https://x.example", "http://127.0.0.1:3000"]);
  });

  it("defaults: no tokens, not anonymous, 1 MiB, no CORS origins", () => {
    const config = loadRelayConfig({ ...base, RELAY_ENDPOINTS: "[]" });
    expect(config).toEqual({
      endpoints: [],
      ingestTokens: [],
      allowAnonymous: false,
      maxBodyBytes: 1024 * 1024,
      corsOrigins: [],
    });
  });

  it("is memoized while the values stay the same", () => {
    const input = { ...base, RELAY_ENDPOINTS: '[{"name":"m","url":"https://m.example"}]' };
    expect(loadRelayConfig(input)).toBe(loadRelayConfig({ ...input }));
    expect(loadRelayConfig(input)).not.toBe(loadRelayConfig({ ...input, RELAY_ADMIN_TOKEN: "x" }));
  });

  it.each([
    [{ RELAY_ENDPOINTS: undefined }, "RELAY_ENDPOINTS", /not set/],
    [{ RELAY_ENDPOINTS: `[{"name":"${secretMarker}"` }, "RELAY_ENDPOINTS", /not valid JSON/],
    [{ RELAY_ENDPOINTS: '{"name":"a"}' }, "RELAY_ENDPOINTS", /JSON array/],
    [{ RELAY_ENDPOINTS: '[{"url":"https://a.example"}]' }, "RELAY_ENDPOINTS[0].name", /required/],
    [{ RELAY_ENDPOINTS: '[{"name":"a"}]' }, "RELAY_ENDPOINTS[0].url", /required/],
    [
      {
        RELAY_ENDPOINTS:
          '[{"name":"a","url":"https://a"},{"name":"b","url":"https://b","ignore":{"actions":["pull","puhs"]}}]',
      },
      "RELAY_ENDPOINTS[1].ignore.actions[1]",
      /pull/,
    ],
    [
      {
        RELAY_ENDPOINTS: `[{"name":"a","url":"https://a","headers":{"Authorization":["Bearer ${secretMarker}\\n"]}}]`,
      },
      "RELAY_ENDPOINTS[0].headers.Authorization[0]",
      /CR, LF/,
    ],
    [
      { RELAY_ENDPOINTS: `[{"name":"a","url":"https://a","secret":"whsec_${secretMarker}"}]` },
      "RELAY_ENDPOINTS[0].secret",
      /whsec_/,
    ],
    [
      { RELAY_ENDPOINTS: '[{"name":"a","url":"https://a"},{"name":"a","url":"https://b"}]' },
      "RELAY_ENDPOINTS[1].name",
      /RELAY_ENDPOINTS\[0\]/,
    ],
    [
      { RELAY_ENDPOINTS: '[{"name":"a","url":"https://a","partitions":101}]' },
      "RELAY_ENDPOINTS[0].partitions",
      /100/,
    ],
    [
      { RELAY_ENDPOINTS: '[{"name":"a","url":"https://a","Timeout":"1s"}]' },
      "RELAY_ENDPOINTS[0].Timeout",
      /unknown key.*timeout/,
    ],
    [{ RELAY_ALLOW_ANONYMOUS: "yes" }, "RELAY_ALLOW_ANONYMOUS", /true or false/],
    [{ RELAY_MAX_BODY_BYTES: "1MB" }, "RELAY_MAX_BODY_BYTES", /positive integer/],
    [{ RELAY_MAX_BODY_BYTES: "0" }, "RELAY_MAX_BODY_BYTES", /positive integer/],
    [{ RELAY_CORS_ORIGINS: "https://ok.example, *" }, "RELAY_CORS_ORIGINS[1]", /wildcard/],
    [{ RELAY_CORS_ORIGINS: "https://ok.example/" }, "RELAY_CORS_ORIGINS[0]", /origin/],
  ] as [Partial<Env>, string, RegExp][])("names the key: %j → %s", (overrides, key, reason) => {
    const error = failure(overrides);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(reason);
    expect(error.message.startsWith(`${key}: `)).toBe(true);
    expect(error.message).not.toContain(secretMarker);
  });
});

describe("a bad config fails loudly at the first request", () => {
  it("answers 500 JSON naming the key on every route, without the value, and logs the key", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const bad = {
        RELAY_ENDPOINTS: `[{"name":"a","url":"https://a","headers":{"X":"${secretMarker}"},"ignore":{"actions":["pul"]}}]`,
      };
      for (const [method, path] of [
        ["POST", "/v1/events"],
        ["GET", "/healthz"],
        ["GET", "/v1/endpoints"],
        ["GET", "/metrics"],
      ] as const) {
        const response = await withEnv(
          bad,
          new Request(`${relay}${path}`, {
            method,
            headers: { authorization: `Bearer ${secrets.adminToken}` },
            ...(method === "POST" ? { body: "{}" } : {}),
          }),
        );
        expect(response.status, path).toBe(500);
        const text = await response.clone().text();
        expect(text).not.toContain(secretMarker);
        const error = await errorOf(response);
        expect(error.code).toBe("invalid_config");
        expect(error.message).toContain("RELAY_ENDPOINTS[0].ignore.actions[0]");
        expect(error.issues).toEqual([
          { path: "RELAY_ENDPOINTS[0].ignore.actions[0]", message: expect.stringMatching(/pull/) },
        ]);
      }
      const logged = errors.mock.calls.flat().join("\n");
      expect(logged).toContain("RELAY_ENDPOINTS[0].ignore.actions[0]");
      expect(logged).not.toContain(secretMarker);
    } finally {
      errors.mockRestore();
    }
  });
});

describe("partitions", () => {
  it("partitionOf is stable FNV-1a modulo N and spreads repositories", () => {
    expect(partitionOf("anything", 1)).toBe(0);
    // FNV-1a 32-bit of "a" is 0xe40c292c = 3826002220.
    expect(partitionOf("a", 1_000_000_007)).toBe(3826002220 % 1_000_000_007);
    expect(partitionOf("library/alpine", 8)).toBe(partitionOf("library/alpine", 8));
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 400; i++) counts[partitionOf(`org/repo-${i}`, 4)]++;
    for (const n of counts) expect(n).toBeGreaterThan(60);
    expect(() => partitionOf("x", 0)).toThrow(RangeError);
  });

  it("queueName is endpoint#partition", () => {
    expect(queueName("audit", 3)).toBe("audit#3");
  });
});

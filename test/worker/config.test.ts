import { describe, expect, it, vi } from "vitest";
import { partitionOf } from "../../src/endpoint/endpoint.ts";
import { loadRelayConfig, RelayConfigError, type RelayVars } from "../../worker/env.ts";
import { queueName } from "../../worker/queue/partition.ts";
import { errorOf, relay, secrets, withEnv } from "./relay-helpers.ts";

const base: RelayVars = {};
const secretMarker = "super-secret-value-5d1f";

function failure(overrides: Partial<RelayVars>): RelayConfigError {
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
      RELAY_ALLOW_ANONYMOUS: "false",
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
    expect(config.allowAnonymous).toBe(false);
    expect(config.maxBodyBytes).toBe(2048);
    expect(config.corsOrigins).toEqual(["https://x.example", "http://127.0.0.1:3000"]);
    // Anonymous ingest is for a relay without tokens (" , " lists none).
    const anonymous = loadRelayConfig({
      ...base,
      RELAY_ENDPOINTS: "[]",
      RELAY_INGEST_TOKENS: " , ",
      RELAY_ALLOW_ANONYMOUS: "TRUE",
    });
    expect([anonymous.ingestTokens, anonymous.allowAnonymous]).toEqual([[], true]);
  });

  it("defaults: no tokens, not anonymous, 1 MiB, no CORS origins", () => {
    const config = loadRelayConfig({ ...base, RELAY_ENDPOINTS: "[]" });
    expect(config).toEqual({
      endpoints: [],
      ingestTokens: [],
      allowAnonymous: false,
      maxBodyBytes: 1024 * 1024,
      corsOrigins: [],
      allowedHosts: [],
    });
  });

  it("refuses anonymous ingest while an ingest token is set", () => {
    for (const anonymous of ["true", "1", " TRUE "]) {
      const error = failure({
        RELAY_INGEST_TOKENS: secretMarker,
        RELAY_ALLOW_ANONYMOUS: anonymous,
      });
      expect(error.key).toBe("RELAY_ALLOW_ANONYMOUS");
      expect(error.message).toMatch(
        /^RELAY_ALLOW_ANONYMOUS: cannot be true while RELAY_INGEST_TOKENS is set; /,
      );
      expect(error.message).not.toContain(secretMarker);
    }
    for (const anonymous of [undefined, "", "false", "0"]) {
      const config = loadRelayConfig({
        ...base,
        RELAY_ENDPOINTS: "[]",
        RELAY_INGEST_TOKENS: secretMarker,
        ...(anonymous === undefined ? {} : { RELAY_ALLOW_ANONYMOUS: anonymous }),
      });
      expect([config.ingestTokens, config.allowAnonymous]).toEqual([[secretMarker], false]);
    }
  });

  it("warns, by key only, about ingest tokens shorter than 16 characters", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const short = "short-5d1f-tok"; // 14 characters
      loadRelayConfig({
        ...base,
        RELAY_ENDPOINTS: "[]",
        RELAY_INGEST_TOKENS: `${secretMarker}-long-enough, ${short}`,
      });
      const logged = warn.mock.calls.flat().join("\n");
      expect(logged).toMatch(/RELAY_INGEST_TOKENS\[1\]: is shorter than 16 characters/);
      expect(logged).not.toMatch(/RELAY_INGEST_TOKENS\[0\]/);
      expect(logged).not.toContain(short);
      expect(logged).not.toContain(secretMarker);
      warn.mockClear();
      loadRelayConfig({
        ...base,
        RELAY_ENDPOINTS: "[]",
        RELAY_INGEST_TOKENS: "sixteen-chars-ok",
      });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it("passes an explicit maxAttempts or maxAge of 0 (unlimited) through, and bounds timeouts", () => {
    const config = loadRelayConfig({
      ...base,
      RELAY_ENDPOINTS: JSON.stringify([
        { name: "forever", url: "https://a.example/in", maxAttempts: 0, maxAge: "0" },
        { name: "default", url: "https://a.example/in", timeout: 0 },
      ]),
    });
    const [forever, fallback] = config.endpoints;
    expect([forever?.maxAttempts, forever?.maxAge]).toEqual([0, 0]);
    expect(fallback && ["maxAttempts" in fallback, "maxAge" in fallback]).toEqual([false, false]);
    expect(fallback?.timeout).toBe(1000);
  });

  it("caps RELAY_MAX_BODY_BYTES at 16 MiB", () => {
    const config = loadRelayConfig({
      ...base,
      RELAY_ENDPOINTS: "[]",
      RELAY_MAX_BODY_BYTES: String(16 * 1024 * 1024),
    });
    expect(config.maxBodyBytes).toBe(16 * 1024 * 1024);
    for (const value of [String(16 * 1024 * 1024 + 1), "9007199254740991"]) {
      const error = failure({ RELAY_MAX_BODY_BYTES: value });
      expect(error.key).toBe("RELAY_MAX_BODY_BYTES");
      expect(error.message).toMatch(/at most 16777216 \(16 MiB\).*RPC/);
      expect(error.message).not.toContain(value);
    }
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
    [
      { RELAY_ENDPOINTS: '[{"name":"a","url":"https://a","timeout":"1000h"}]' },
      "RELAY_ENDPOINTS[0].timeout",
      /1ms to 5m/,
    ],
    [
      { RELAY_ENDPOINTS: '[{"name":"a","url":"https://a","threshold":-1}]' },
      "RELAY_ENDPOINTS[0].threshold",
      /negative/,
    ],
    [
      {
        RELAY_ENDPOINTS:
          '[{"name":"a","url":"https://a","strategy":{"type":"exponential","max":"-1s"}}]',
      },
      "RELAY_ENDPOINTS[0].strategy.max",
      /negative/,
    ],
    [
      { RELAY_ENDPOINTS: '[{"name":"a","url":"https://a","maxAge":"721h"}]' },
      "RELAY_ENDPOINTS[0].maxAge",
      /720h/,
    ],
    [
      { RELAY_ENDPOINTS: `[{"name":"a","url":"https://a/in#${secretMarker}"}]` },
      "RELAY_ENDPOINTS[0].url",
      /#fragment/,
    ],
    [
      {
        RELAY_ALLOWED_HOSTS: "hooks.example.com",
        RELAY_ENDPOINTS: `[{"name":"a","url":"https://hooks.example.com/in"},{"name":"b","url":"https://${secretMarker}.example.com/in"}]`,
      },
      "RELAY_ENDPOINTS[1].url",
      /not in RELAY_ALLOWED_HOSTS/,
    ],
    [{ RELAY_ALLOWED_HOSTS: "a.example, *" }, "RELAY_ALLOWED_HOSTS[1]", /every host/],
    [
      { RELAY_ALLOWED_HOSTS: `https://${secretMarker}.example` },
      "RELAY_ALLOWED_HOSTS[0]",
      /must be a host/,
    ],
    [{ RELAY_ALLOWED_HOSTS: "a.example/path" }, "RELAY_ALLOWED_HOSTS[0]", /must be a host/],
    [{ RELAY_ALLOWED_HOSTS: "user@a.example" }, "RELAY_ALLOWED_HOSTS[0]", /must be a host/],
    [{ RELAY_ALLOWED_HOSTS: "a.example:99999" }, "RELAY_ALLOWED_HOSTS[0]", /must be a host/],
    [{ RELAY_ALLOWED_HOSTS: "a.example:0" }, "RELAY_ALLOWED_HOSTS[0]", /must be a host/],
    [{ RELAY_ALLOWED_HOSTS: "*.*.example.com" }, "RELAY_ALLOWED_HOSTS[0]", /must be a host/],
    [{ RELAY_ALLOWED_HOSTS: "*.10.0.0.5" }, "RELAY_ALLOWED_HOSTS[0]", /not IP addresses/],
    [{ RELAY_ALLOW_ANONYMOUS: "yes" }, "RELAY_ALLOW_ANONYMOUS", /true or false/],
    // Not an RFC 6750 token: no client could present it, the admin API would stay locked.
    [{ RELAY_ADMIN_TOKEN: `${secretMarker} two` }, "RELAY_ADMIN_TOKEN", /bearer token/],
    [{ RELAY_ADMIN_TOKEN: `${secretMarker}!` }, "RELAY_ADMIN_TOKEN", /letters, digits/],
    [{ RELAY_MAX_BODY_BYTES: "1MB" }, "RELAY_MAX_BODY_BYTES", /positive integer/],
    [{ RELAY_MAX_BODY_BYTES: "0" }, "RELAY_MAX_BODY_BYTES", /positive integer/],
    [{ RELAY_MAX_BODY_BYTES: "16777217" }, "RELAY_MAX_BODY_BYTES", /16 MiB/],
    [{ RELAY_CORS_ORIGINS: "https://ok.example, *" }, "RELAY_CORS_ORIGINS[1]", /wildcard/],
    [{ RELAY_CORS_ORIGINS: "https://ok.example/" }, "RELAY_CORS_ORIGINS[0]", /origin/],
    // A blank secret would switch GitHub's signature check off; a padded one never verifies.
    [{ RELAY_GITHUB_WEBHOOK_SECRET: "   " }, "RELAY_GITHUB_WEBHOOK_SECRET", /blank/],
    [
      { RELAY_GITHUB_WEBHOOK_SECRET: ` ${secretMarker}` },
      "RELAY_GITHUB_WEBHOOK_SECRET",
      /whitespace/,
    ],
  ] as [Partial<RelayVars>, string, RegExp][])(
    "names the key: %j → %s",
    (overrides, key, reason) => {
      const error = failure(overrides);
      expect(error.key).toBe(key);
      expect(error.message).toMatch(reason);
      expect(error.message.startsWith(`${key}: `)).toBe(true);
      expect(error.message).not.toContain(secretMarker);
    },
  );
});

describe("RELAY_ALLOWED_HOSTS", () => {
  /** Whether loading one endpoint with `url` under `hosts` passes; throws on other errors. */
  function allows(hosts: string | undefined, url: string): boolean {
    try {
      loadRelayConfig({
        ...base,
        RELAY_ENDPOINTS: JSON.stringify([{ name: "t", url }]),
        ...(hosts === undefined ? {} : { RELAY_ALLOWED_HOSTS: hosts }),
      });
      return true;
    } catch (error) {
      if (error instanceof RelayConfigError && error.key === "RELAY_ENDPOINTS[0].url") {
        expect(error.reason).toMatch(/not in RELAY_ALLOWED_HOSTS/);
        return false;
      }
      throw error;
    }
  }

  it.each([
    // Unset or listing nothing: any http(s) host, private and loopback included.
    [undefined, "http://127.0.0.1:8788/in", true],
    [undefined, "http://10.0.0.5/in", true],
    ["", "https://anything.example/in", true],
    [" , ", "http://localhost:1/in", true],
    // An exact host: any port, case and a trailing dot do not matter, look-alikes do.
    ["hooks.example.com", "https://hooks.example.com/in", true],
    ["hooks.example.com", "https://HOOKS.Example.com./in", true],
    ["hooks.example.com", "http://hooks.example.com:8443/in", true],
    ["HOOKS.example.com.", "https://hooks.example.com/in", true],
    ["hooks.example.com", "https://evil.example.com/in", false],
    ["hooks.example.com", "https://hooks.example.com.evil.net/in", false],
    ["hooks.example.com", "https://xhooks.example.com/in", false],
    ["hooks.example.com", "https://example.com/in", false],
    ["hooks.example.com", "http://127.0.0.1/in", false],
    // *.domain: any subdomain at any depth, not the domain itself.
    ["*.example.com", "https://a.example.com/in", true],
    ["*.example.com", "https://a.b.example.com:8443/in", true],
    ["*.example.com", "https://example.com/in", false],
    ["*.example.com", "https://badexample.com/in", false],
    ["*.example.com", "https://a.example.com.evil.net/in", false],
    // host:port: only that port; a URL without one has its scheme's (80, 443).
    ["10.0.0.5:8080", "http://10.0.0.5:8080/in", true],
    ["10.0.0.5:8080", "http://0x0a.0.0.5:8080/in", true],
    ["10.0.0.5:8080", "http://10.0.0.5/in", false],
    ["10.0.0.5:8080", "http://10.0.0.50:8080/in", false],
    ["hooks.example.com:443", "https://hooks.example.com/in", true],
    ["hooks.example.com:443", "http://hooks.example.com/in", false],
    ["[::1]:8787", "http://[::1]:8787/in", true],
    ["[::1]:8787", "http://127.0.0.1:8787/in", false],
    // IDN patterns compare in punycode, as URLs do.
    ["bücher.example", "https://xn--bcher-kva.example/in", true],
    // Several patterns: any one matches.
    ["a.example, *.b.example, 127.0.0.1:8788", "http://127.0.0.1:8788/in", true],
    ["a.example, *.b.example, 127.0.0.1:8788", "https://x.b.example/in", true],
    ["a.example, *.b.example, 127.0.0.1:8788", "https://c.example/in", false],
  ] as [string | undefined, string, boolean][])("%j, %s → %s", (hosts, url, expected) => {
    expect(allows(hosts, url)).toBe(expected);
  });

  it("is part of the memoized fingerprint, and checks disabled endpoints too", () => {
    const endpoints = '[{"name":"off","url":"https://other.example/in","disabled":true}]';
    const input = { ...base, RELAY_ENDPOINTS: endpoints };
    expect(loadRelayConfig(input).endpoints).toHaveLength(1);
    expect(() => loadRelayConfig({ ...input, RELAY_ALLOWED_HOSTS: "hooks.example.com" })).toThrow(
      /^RELAY_ENDPOINTS\[0\]\.url: /,
    );
    expect(loadRelayConfig({ ...input, RELAY_ALLOWED_HOSTS: "*.example" }).allowedHosts).toEqual([
      { host: "example", wildcard: true },
    ]);
  });

  it("normalises the patterns it keeps", () => {
    const config = loadRelayConfig({
      ...base,
      RELAY_ENDPOINTS: "[]",
      RELAY_ALLOWED_HOSTS: " Hooks.Example.COM. , *.example.net, 10.1:8080, [0:0::1]",
    });
    expect(config.allowedHosts).toEqual([
      { host: "hooks.example.com", wildcard: false },
      { host: "example.net", wildcard: true },
      { host: "10.0.0.1", wildcard: false, port: 8080 },
      { host: "[::1]", wildcard: false },
    ]);
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
  it("partitionOf (the core's) is stable FNV-1a modulo N and spreads repositories", () => {
    expect(partitionOf("anything", 1)).toBe(0);
    // FNV-1a 32-bit of "a" is 0xe40c292c = 3826002220.
    expect(partitionOf("a", 1_000_000_007)).toBe(3826002220 % 1_000_000_007);
    expect(partitionOf("library/alpine", 8)).toBe(partitionOf("library/alpine", 8));
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 400; i++) counts[partitionOf(`org/repo-${i}`, 4)]++;
    for (const n of counts) expect(n).toBeGreaterThan(60);
  });

  it("refuses a partition count that is not an integer from 1 to 100", () => {
    // Such a count would route events to a Durable Object no reader ever looks at.
    for (const partitions of [0, -1, 1.5, "2", 101]) {
      const endpoint = { name: "a", url: "https://a.example", partitions };
      const error = failure({ RELAY_ENDPOINTS: JSON.stringify([endpoint]) });
      expect(error.key, JSON.stringify(partitions)).toBe("RELAY_ENDPOINTS[0].partitions");
    }
  });

  it("queueName is endpoint#partition", () => {
    expect(queueName("audit", 3)).toBe("audit#3");
  });
});

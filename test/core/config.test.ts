import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseEndpointConfig } from "../../src/endpoint/config.ts";
import { parseDuration } from "../../src/endpoint/duration.ts";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/event/constants.ts";

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function configError(input: unknown): ConfigError {
  try {
    parseEndpointConfig(input);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

describe("parseDuration", () => {
  const cases: [string | number, number][] = [
    ["500ms", 500],
    ["1s", 1000],
    ["2m", 120_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["300us", 0.3],
    ["300µs", 0.3],
    ["300μs", 0.3],
    ["1000000ns", 1],
    [".5s", 500],
    ["1h1m1s1ms", 3_661_001],
    ["0", 0],
    ["-1s", -1000],
    ["+2s", 2000],
    [250, 250],
    [0, 0],
  ];
  for (const [input, ms] of cases) {
    it(`${JSON.stringify(input)} → ${ms} ms`, () => {
      assert.equal(parseDuration(input), ms);
    });
  }

  for (const [input, reason] of [
    ["1000", /has no unit/],
    ["1 second", /not a duration/],
    ["1d", /not a duration/],
    ["", /not a duration/],
    ["s", /not a duration/],
    ["1.s5", /not a duration/],
    [Number.NaN, /finite/],
    [Number.POSITIVE_INFINITY, /finite/],
  ] as const) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseDuration(input),
        (e: unknown) => e instanceof ConfigError && reason.test(e.message),
      );
    });
  }
});

describe("parseEndpointConfig", () => {
  it("applies distribution's defaults to an empty config", () => {
    assert.deepEqual(parseEndpointConfig({}), {
      disabled: false,
      headers: {},
      timeout: 1000,
      threshold: 10,
      backoff: 1000,
      ignore: { mediatypes: [], actions: [] },
      maxBatch: 1,
      strategy: { type: "breaker", threshold: 10, backoff: 1000 },
      partitions: 1,
      mediaType: EventsMediaType,
      overflow: "reject",
      format: "distribution",
    });
    assert.deepEqual(parseEndpointConfig(undefined), parseEndpointConfig({}));
  });

  it("reads format and match, and keeps only the match keys given", () => {
    const config = parseEndpointConfig({
      format: "cloudevents",
      match: { repositories: ["team-a/**"], tags: ["v*"], actions: [], sources: null },
    });
    assert.equal(config.format, "cloudevents");
    assert.deepEqual(config.match, { repositories: ["team-a/**"], tags: ["v*"] });
    assert.equal(parseEndpointConfig({ match: {} }).match, undefined);
    assert.equal(parseEndpointConfig({ format: "cdevents", maxBatch: 1 }).format, "cdevents");
    const errors: [input: unknown, key: string, message: RegExp][] = [
      [{ format: "json" }, "format", /must be "distribution", "cloudevents", "cdevents"/],
      [
        { match: { repository: ["a"] } },
        "match.repository",
        /unknown key \(did you mean "repositories"\?\)/,
      ],
      [{ match: { tags: "v*" } }, "match.tags", /must be a list of globs/],
      [{ match: { tags: [""] } }, "match.tags[0]", /non-empty glob/],
      [{ match: { tags: ["a\nb"] } }, "match.tags[0]", /on one line/],
      [{ match: ["team-a/**"] }, "match", /mapping of keys/],
      [{ format: "cdevents", maxBatch: 10 }, "maxBatch", /must be 1 with format "cdevents"/],
      [
        { format: "cdevents", headers: { "CE-Source": "x" } },
        "headers.CE-Source",
        /must not be set with format "cdevents"/,
      ],
    ];
    for (const [input, key, message] of errors) {
      const error = configError(input);
      assert.equal(error.key, key, JSON.stringify(input));
      assert.match(error.message, message);
    }
  });

  it("reads every distribution key", () => {
    const config = parseEndpointConfig({
      name: "alistener",
      disabled: true,
      url: "https://my.listener.com/event",
      headers: { Authorization: ["Bearer <token>"], "X-Single": "one" },
      timeout: "500ms",
      threshold: 5,
      backoff: "2s",
      ignoredmediatypes: ["application/octet-stream"],
      ignore: {
        mediatypes: ["application/octet-stream", "application/vnd.oci.image.index.v1+json"],
        actions: ["pull", "mount"],
      },
    });
    assert.equal(config.name, "alistener");
    assert.equal(config.disabled, true);
    assert.equal(config.url, "https://my.listener.com/event");
    assert.deepEqual(config.headers, { Authorization: ["Bearer <token>"], "X-Single": ["one"] });
    assert.equal(config.timeout, 500);
    assert.equal(config.threshold, 5);
    assert.equal(config.backoff, 2000);
    assert.deepEqual(config.ignore, {
      mediatypes: ["application/octet-stream", "application/vnd.oci.image.index.v1+json"],
      actions: ["pull", "mount"],
    });
    assert.deepEqual(config.strategy, { type: "breaker", threshold: 5, backoff: 2000 });
  });

  it("reads every key of ours", () => {
    const config = parseEndpointConfig({
      secret,
      maxAttempts: 20,
      maxAge: "24h",
      maxBatch: 10,
      strategy: { type: "exponential", base: "1s", factor: 500, max: "30s" },
      partitions: 4,
      mediaType: EventsMediaTypeV2,
      capacity: 10_000,
      overflow: "drop-oldest",
    });
    assert.deepEqual(config.secret, [secret]);
    assert.equal(config.maxAttempts, 20);
    assert.equal(config.maxAge, 86_400_000);
    assert.equal(config.maxBatch, 10);
    assert.deepEqual(config.strategy, {
      type: "exponential",
      base: 1000,
      factor: 500,
      max: 30_000,
    });
    assert.equal(config.partitions, 4);
    assert.equal(config.mediaType, EventsMediaTypeV2);
    assert.equal(config.capacity, 10_000);
    assert.equal(config.overflow, "drop-oldest");
    assert.deepEqual(parseEndpointConfig({ secret: [secret, secret] }).secret, [secret, secret]);
  });

  it("fills strategies from defaults and the top-level breaker keys", () => {
    assert.deepEqual(parseEndpointConfig({ strategy: { type: "exponential" } }).strategy, {
      type: "exponential",
      base: 1000,
      factor: 1000,
      max: 20_000,
    });
    assert.deepEqual(
      parseEndpointConfig({
        threshold: 3,
        backoff: "5s",
        strategy: { type: "breaker", backoff: 100 },
      }).strategy,
      { type: "breaker", threshold: 3, backoff: 100 },
    );
  });

  it("treats timeout, threshold and backoff of 0 as the default, like distribution", () => {
    const config = parseEndpointConfig({ timeout: 0, threshold: 0, backoff: "0s" });
    assert.equal(config.timeout, 1000);
    assert.equal(config.threshold, 10);
    assert.equal(config.backoff, 1000);
    const strategy = parseEndpointConfig({
      threshold: 4,
      backoff: "3s",
      strategy: { type: "breaker", threshold: 0, backoff: 0 },
    }).strategy;
    assert.deepEqual(strategy, { type: "breaker", threshold: 4, backoff: 3000 });
    assert.deepEqual(
      parseEndpointConfig({ strategy: { type: "exponential", factor: 0, max: "0" } }).strategy,
      {
        type: "exponential",
        base: 1000,
        factor: 1000,
        max: 20_000,
      },
    );
  });

  it("passes an explicit maxAttempts or maxAge of 0 (unlimited) through, and omits them when unset", () => {
    for (const maxAge of [0, "0", "0s"]) {
      const config = parseEndpointConfig({ maxAttempts: 0, maxAge });
      assert.equal(config.maxAttempts, 0);
      assert.equal(parseEndpointConfig({ maxAttempts: "0", maxAge }).maxAttempts, 0);
      assert.equal(config.maxAge, 0);
      assert.deepEqual(parseEndpointConfig(config), config);
    }
    const unset = parseEndpointConfig({ maxAttempts: null, maxAge: null });
    assert.equal("maxAttempts" in unset, false);
    assert.equal("maxAge" in unset, false);
  });

  it("accepts each bound itself", () => {
    const low = parseEndpointConfig({
      timeout: "1ms",
      threshold: 1,
      backoff: 1,
      maxAttempts: 1,
      maxAge: "1ms",
      maxBatch: 1,
      partitions: 1,
      capacity: 1,
      strategy: { type: "exponential", base: 0, factor: "1ms", max: 1 },
    });
    assert.deepEqual(
      [low.timeout, low.threshold, low.backoff, low.maxAttempts, low.maxAge, low.strategy],
      [1, 1, 1, 1, 1, { type: "exponential", base: 0, factor: 1, max: 1 }],
    );
    const high = parseEndpointConfig({
      timeout: "5m",
      threshold: 1000,
      backoff: "1h",
      maxAttempts: 1000,
      maxAge: "720h",
      maxBatch: 1000,
      partitions: 100,
      capacity: 1_000_000,
      strategy: { type: "exponential", base: "1h", factor: "60m", max: 3_600_000 },
    });
    assert.deepEqual(
      [high.timeout, high.threshold, high.backoff, high.maxAttempts, high.maxAge],
      [300_000, 1000, 3_600_000, 1000, 2_592_000_000],
    );
    assert.deepEqual(
      [high.maxBatch, high.partitions, high.capacity, high.strategy],
      [
        1000,
        100,
        1_000_000,
        { type: "exponential", base: 3_600_000, factor: 3_600_000, max: 3_600_000 },
      ],
    );
    const breaker = parseEndpointConfig({
      strategy: { type: "breaker", threshold: 1000, backoff: "1h" },
    });
    assert.deepEqual(breaker.strategy, { type: "breaker", threshold: 1000, backoff: 3_600_000 });
  });

  it("accepts YAML's null for an empty key", () => {
    const config = parseEndpointConfig({
      headers: null,
      ignoredmediatypes: null,
      ignore: { actions: null },
    });
    assert.deepEqual(config.headers, {});
    assert.deepEqual(config.ignore, { mediatypes: [], actions: [] });
  });

  it("is idempotent: its output parses to itself", () => {
    const once = parseEndpointConfig({
      name: "x",
      url: "https://h.example/in",
      headers: { A: "1" },
      timeout: "2s",
      ignoredmediatypes: ["application/octet-stream"],
      ignore: { actions: ["pull"] },
      secret,
      maxAge: "1h",
      strategy: { type: "exponential", max: "5s" },
      capacity: 5,
    });
    assert.deepEqual(parseEndpointConfig(once), once);
  });

  const errors: [string, unknown, string, RegExp][] = [
    ["root", "not an object", "", /mapping of keys/],
    ["unknown key", { url: "https://h.example/", tiemout: "1s" }, "tiemout", /unknown key/],
    [
      "case typo",
      { maxattempts: 3 },
      "maxattempts",
      /unknown key \(did you mean "maxAttempts"\?\)/,
    ],
    [
      "unknown nested key",
      { ignore: { action: ["pull"] } },
      "ignore.action",
      /did you mean "actions"/,
    ],
    ["typo: a letter missing", { treshold: 3 }, "treshold", /did you mean "threshold"\?/],
    ["typo: a letter dropped", { timout: "1s" }, "timout", /did you mean "timeout"\?/],
    ["typo: letters swapped", { bakcoff: "1s" }, "bakcoff", /did you mean "backoff"\?/],
    ["typo: two edits", { treshhold: 3 }, "treshhold", /did you mean "threshold"\?/],
    ["typo and a plural", { maxAtempt: 3 }, "maxAtempt", /did you mean "maxAttempts"\?/],
    [
      "typo in a strategy",
      { strategy: { type: "exponential", fator: 2 } },
      "strategy.fator",
      /did you mean "factor"\?/,
    ],
    ["no near key", { retries: 3 }, "retries", /^unknown key$/],
    ["name", { name: 7 }, "name", /must be a string/],
    ["disabled", { disabled: "yes" }, "disabled", /true or false/],
    ["url not absolute", { url: "my.listener.com/event" }, "url", /absolute http or https URL/],
    ["url scheme", { url: "ftp://my.listener.com/" }, "url", /absolute http or https URL/],
    ["url fragment", { url: "https://my.listener.com/event#x" }, "url", /#fragment/],
    ["url empty fragment", { url: "https://my.listener.com/event#" }, "url", /#fragment/],
    ["headers shape", { headers: ["Authorization"] }, "headers", /map of header names/],
    [
      "header name",
      { headers: { "Bad Name": ["x"] } },
      "headers.Bad Name",
      /not a valid header name/,
    ],
    [
      "header value",
      { headers: { Authorization: ["ok", "bad\nvalue"] } },
      "headers.Authorization[1]",
      /CR, LF or NUL/,
    ],
    [
      "header value type",
      { headers: { Authorization: [1] } },
      "headers.Authorization",
      /string or a list of strings/,
    ],
    ["timeout", { timeout: "1 second" }, "timeout", /not a duration/],
    ["timeout unit", { timeout: "1000" }, "timeout", /has no unit/],
    ["timeout type", { timeout: true }, "timeout", /must be a duration/],
    ["timeout too long", { timeout: "1000h" }, "timeout", /0 \(the default, 1s\) or 1ms to 5m$/],
    ["timeout just too long", { timeout: 300_001 }, "timeout", /1ms to 5m/],
    ["timeout below 1ms", { timeout: "300us" }, "timeout", /1ms to 5m/],
    ["timeout negative", { timeout: "-1s" }, "timeout", /^must not be negative; .*1ms to 5m/],
    ["threshold", { threshold: 2.5 }, "threshold", /integer/],
    ["threshold negative", { threshold: -1 }, "threshold", /^must not be negative; .*1 to 1000/],
    ["threshold too high", { threshold: 1001 }, "threshold", /0 \(the default, 10\) or 1 to 1000/],
    ["backoff", { backoff: "soon" }, "backoff", /not a duration/],
    ["backoff negative", { backoff: "-1s" }, "backoff", /^must not be negative; .*1ms to 1h/],
    ["backoff too long", { backoff: "61m" }, "backoff", /0 \(the default, 1s\) or 1ms to 1h/],
    [
      "ignoredmediatypes",
      { ignoredmediatypes: "application/octet-stream" },
      "ignoredmediatypes",
      /list of media types/,
    ],
    [
      "ignoredmediatypes item",
      { ignoredmediatypes: ["blob"] },
      "ignoredmediatypes[0]",
      /media type such as/,
    ],
    ["ignore shape", { ignore: ["pull"] }, "ignore", /mapping of keys/],
    [
      "ignore.mediatypes item",
      { ignore: { mediatypes: ["ok/type", "no type"] } },
      "ignore.mediatypes[1]",
      /media type/,
    ],
    [
      "ignore.actions item",
      { ignore: { actions: ["pull", "pul"] } },
      "ignore.actions[1]",
      /one of "pull", "push", "mount", "delete"/,
    ],
    ["ignore.actions shape", { ignore: { actions: "pull" } }, "ignore.actions", /list of actions/],
    ["secret prefix", { secret: "hunter2!" }, "secret", /whsec_/],
    ["secret length", { secret: "whsec_c2hvcnQ=" }, "secret", /24 to 64 bytes/],
    ["secret list item", { secret: [secret, "whsec_@@"] }, "secret[1]", /whsec_/],
    ["secret list empty", { secret: [] }, "secret", /at least one secret/],
    ["maxAttempts", { maxAttempts: 1.5 }, "maxAttempts", /integer/],
    [
      "maxAttempts negative",
      { maxAttempts: -1 },
      "maxAttempts",
      /^must not be negative; .*0 \(unlimited\)/,
    ],
    ["maxAttempts too high", { maxAttempts: 1001 }, "maxAttempts", /1 to 1000; .*maxAge/],
    ["maxAge", { maxAge: "-1s" }, "maxAge", /^must not be negative; .*0 \(unlimited\)/],
    ["maxAge too long", { maxAge: "721h" }, "maxAge", /1ms to 720h \(30 days\)/],
    ["maxBatch", { maxBatch: 1.5 }, "maxBatch", /integer/],
    ["maxBatch zero", { maxBatch: 0 }, "maxBatch", /integer >= 1/],
    ["maxBatch too high", { maxBatch: 1001 }, "maxBatch", /at most 1000/],
    [
      "strategy type",
      { strategy: { type: "linear" } },
      "strategy.type",
      /"breaker" or "exponential"/,
    ],
    [
      "strategy key",
      { strategy: { type: "breaker", factor: 2 } },
      "strategy.factor",
      /unknown key/,
    ],
    [
      "strategy.threshold",
      { strategy: { type: "breaker", threshold: "3" } },
      "strategy.threshold",
      /integer/,
    ],
    [
      "strategy.threshold negative",
      { strategy: { type: "breaker", threshold: -1 } },
      "strategy.threshold",
      /negative/,
    ],
    [
      "strategy.threshold too high",
      { strategy: { type: "breaker", threshold: 1001 } },
      "strategy.threshold",
      /1 to 1000/,
    ],
    [
      "strategy.backoff negative",
      { strategy: { type: "breaker", backoff: -1 } },
      "strategy.backoff",
      /negative/,
    ],
    [
      "strategy.backoff too long",
      { strategy: { type: "breaker", backoff: "2h" } },
      "strategy.backoff",
      /1ms to 1h/,
    ],
    [
      "strategy.backoff",
      { strategy: { type: "breaker", backoff: "x" } },
      "strategy.backoff",
      /not a duration/,
    ],
    [
      "strategy.base",
      { strategy: { type: "exponential", base: "-1s" } },
      "strategy.base",
      /negative/,
    ],
    [
      "strategy.factor",
      { strategy: { type: "exponential", factor: "1" } },
      "strategy.factor",
      /no unit/,
    ],
    [
      "strategy.max",
      { strategy: { type: "exponential", max: [] } },
      "strategy.max",
      /must be a duration/,
    ],
    [
      "strategy.base too long",
      { strategy: { type: "exponential", base: "61m" } },
      "strategy.base",
      /0 to 1h/,
    ],
    [
      "strategy.factor negative",
      { strategy: { type: "exponential", factor: -1 } },
      "strategy.factor",
      /negative/,
    ],
    [
      "strategy.factor too long",
      { strategy: { type: "exponential", factor: "2h" } },
      "strategy.factor",
      /1ms to 1h/,
    ],
    [
      "strategy.max negative",
      { strategy: { type: "exponential", max: "-20s" } },
      "strategy.max",
      /negative/,
    ],
    [
      "strategy.max too long",
      { strategy: { type: "exponential", max: "1h1ms" } },
      "strategy.max",
      /1ms to 1h/,
    ],
    ["partitions", { partitions: 0 }, "partitions", /integer >= 1/],
    ["partitions too many", { partitions: 101 }, "partitions", /at most 100\b/],
    [
      "mediaType",
      { mediaType: "application/json" },
      "mediaType",
      /events\.v1\+json or .*events\.v2\+json/,
    ],
    ["capacity", { capacity: -3 }, "capacity", /integer >= 1/],
    ["capacity too large", { capacity: 1_000_001 }, "capacity", /at most 1000000/],
    ["capacity huge", { capacity: 1e21 }, "capacity", /at most 1000000/],
    ["overflow", { overflow: "drop-newest" }, "overflow", /"reject" or "drop-oldest"/],
  ];
  for (const [what, input, key, reason] of errors) {
    it(`names the key: ${what} → ${key || "(root)"}`, () => {
      const error = configError(input);
      assert.equal(error.key, key);
      assert.match(error.reason, reason);
      assert.equal(error.message.startsWith(key ? `${key}: ` : error.reason), true, error.message);
    });
  }

  it("names the bounds, never the out-of-range value", () => {
    const error = configError({
      timeout: "987654321ms",
      threshold: -424242,
      maxAge: 8_765_432_100,
      strategy: { type: "exponential", base: "-31337ms" },
    });
    assert.deepEqual(
      error.issues.map((issue) => issue.key),
      ["timeout", "threshold", "maxAge", "strategy.base"],
    );
    const everything = `${error.message} ${JSON.stringify(error.issues)}`;
    for (const value of ["987654321", "424242", "8765432100", "31337"]) {
      assert.ok(!everything.includes(value), everything);
    }
  });

  it("lists every issue, and never echoes a header value or secret", () => {
    const error = configError({
      headers: { Authorization: ["Bearer h3ad3rs3cret\n"] },
      secret: "h3ad3rs3cret-not-whsec!",
      bogus: 1,
    });
    assert.deepEqual(error.issues.map((issue) => issue.key).sort(), [
      "bogus",
      "headers.Authorization[0]",
      "secret",
    ]);
    assert.match(error.message, /\(and 2 more\)/);
    const everything = `${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.issues)}`;
    assert.ok(!everything.includes("h3ad3rs3cret"), everything);
  });
});

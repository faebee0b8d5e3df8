import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpStatusError,
  HttpTransportError,
} from "../../src/sinks/http.ts";
import {
  classifyDeliveryError,
  type DeadLetterReason,
  type DeliveryClass,
  decideRetry,
  defaultMaxAgeMs,
  deliveredBefore,
  describeFailure,
  maxRetryAfterMs,
  type RetryDecision,
  type RetryInput,
  sensitiveValues,
} from "../../src/sinks/retry-policy.ts";
import { SinkClosedError } from "../../src/sinks/sink.ts";

const hour = 3_600_000;

/** A decision with defaults: second attempt, started at 0, ended at 1000, strategy waits 100. */
function decide(overrides: Partial<RetryInput> = {}): RetryDecision {
  return decideRetry({
    attempts: 2,
    firstAttemptAt: 0,
    error: new HttpStatusError(503),
    now: 1000,
    backoff: () => 100,
    ...overrides,
  });
}

/** Only what decides the schedule: retry at, or dead why. */
const outcome = (d: RetryDecision): { at: number } | { dead: DeadLetterReason } =>
  d.retry ? { at: d.at } : { dead: d.reason };

describe("decideRetry", () => {
  it("retries after the larger of the strategy's wait and a capped Retry-After", () => {
    const cases: [string, Partial<RetryInput>, number][] = [
      ["strategy only", {}, 1100],
      ["no wait", { backoff: () => 0 }, 1000],
      ["a negative wait is none", { backoff: () => -5 }, 1000],
      ["Retry-After shorter", { error: new HttpStatusError(429, { retryAfterMs: 50 }) }, 1100],
      ["Retry-After longer", { error: new HttpStatusError(429, { retryAfterMs: 900 }) }, 1900],
      [
        "Retry-After capped at 5 minutes",
        { error: new HttpStatusError(503, { retryAfterMs: 24 * hour }) },
        1000 + maxRetryAfterMs,
      ],
      [
        "a custom cap",
        { error: new HttpStatusError(503, { retryAfterMs: 24 * hour }), maxRetryAfter: 500 },
        1500,
      ],
      [
        "any error carrying retryAfterMs",
        { error: Object.assign(new Error("busy"), { retryAfterMs: 700 }) },
        1700,
      ],
    ];
    for (const [what, input, at] of cases) {
      const decision = decide(input);
      assert.deepEqual(outcome(decision), { at }, what);
      assert.ok(decision.retry && decision.wait === at - 1000, what);
    }
    assert.equal(maxRetryAfterMs, 300_000);
  });

  it("checks, in order: final, the strategy dropping, maxAttempts, maxAge now, maxAge at the next attempt", () => {
    let asked = 0;
    const counting = (answer: number | "drop") => () => {
      asked++;
      return answer;
    };
    // Final: the strategy is not even told (its streak is left alone).
    assert.deepEqual(outcome(decide({ error: new HttpStatusError(400), backoff: counting(0) })), {
      dead: "final",
    });
    assert.equal(asked, 0);
    assert.deepEqual(outcome(decide({ backoff: counting("drop"), maxAttempts: 2 })), {
      dead: "final",
    });
    assert.deepEqual(outcome(decide({ backoff: counting(0), maxAttempts: 2, maxAge: 1 })), {
      dead: "max-attempts",
    });
    assert.equal(asked, 2, "told once per decision when not final");
    // The rows of planRetry's table (the durable queue's former copy of this logic).
    const rows: [number, number, DeadLetterReason | number][] = [
      // attempts, firstAttemptAt → outcome with maxAttempts 5, maxAge 1000, now 1000, at 1950
      [5, 0, "max-attempts"],
      [2, 0, "max-age"],
      [1, 900, "max-age"],
    ];
    for (const [attempts, firstAttemptAt, expected] of rows) {
      const d = decide({
        attempts,
        firstAttemptAt,
        maxAttempts: 5,
        maxAge: 1000,
        now: 1000,
        backoff: () => 950,
      });
      assert.deepEqual(
        outcome(d),
        typeof expected === "number" ? { at: expected } : { dead: expected },
      );
    }
    // now 999, next attempt at 1500.
    const early: [number, number, DeadLetterReason | number][] = [
      [5, 0, "max-attempts"],
      [2, 0, "max-age"],
      [1, 900, 1500],
    ];
    for (const [attempts, firstAttemptAt, expected] of early) {
      const d = decide({
        attempts,
        firstAttemptAt,
        maxAttempts: 5,
        maxAge: 1000,
        now: 999,
        backoff: () => 501,
      });
      assert.deepEqual(
        outcome(d),
        typeof expected === "number" ? { at: expected } : { dead: expected },
      );
    }
  });

  it("maxAge: the boundary, and a Retry-After that would land past it", () => {
    // Age reached exactly now: give up. The next attempt exactly at the limit: still made.
    assert.deepEqual(outcome(decide({ maxAge: 1000, now: 1000, backoff: () => 0 })), {
      dead: "max-age",
    });
    assert.deepEqual(outcome(decide({ maxAge: 1100, now: 1000, backoff: () => 100 })), {
      at: 1100,
    });
    assert.deepEqual(outcome(decide({ maxAge: 1099, now: 1000, backoff: () => 100 })), {
      dead: "max-age",
    });
    const throttled = new HttpStatusError(429, { retryAfterMs: 10_000 });
    assert.deepEqual(outcome(decide({ maxAge: 5000, error: throttled })), { dead: "max-age" });
  });

  it("defaults: no attempt limit, 3 days of age; 0 means unlimited", () => {
    assert.equal(defaultMaxAgeMs, 259_200_000);
    const late = { attempts: 10_000, firstAttemptAt: 0, backoff: () => hour };
    assert.deepEqual(outcome(decide({ ...late, now: 71 * hour })), { at: 72 * hour });
    assert.deepEqual(outcome(decide({ ...late, now: 71 * hour + 1 })), { dead: "max-age" });
    assert.deepEqual(outcome(decide({ ...late, now: 72 * hour })), { dead: "max-age" });
    assert.deepEqual(outcome(decide({ ...late, now: 72 * hour, maxAge: 0 })), {
      at: 73 * hour,
    });
    assert.deepEqual(outcome(decide({ ...late, now: 365 * 24 * hour, maxAge: 0 })), {
      at: 365 * 24 * hour + hour,
    });
    assert.deepEqual(outcome(decide({ ...late, now: hour, maxAttempts: 0 })), { at: 2 * hour });
    assert.deepEqual(outcome(decide({ ...late, now: hour, maxAttempts: 10_000 })), {
      dead: "max-attempts",
    });
  });

  it("uses a custom classification", () => {
    const quota = new Error("quota exceeded");
    const classify = (error: unknown): DeliveryClass => (error === quota ? "final" : "retry");
    assert.deepEqual(outcome(decide({ error: quota, classify })), { dead: "final" });
    assert.deepEqual(outcome(decide({ error: new HttpStatusError(400), classify })), { at: 1100 });
  });

  it("describes the failure for storage: status, redacted message, secrets masked", () => {
    const answered = decide({
      error: new HttpRedirectError(308, { location: "https://new.example/in?token=abc123" }),
      sensitive: ["Bearer h3ad3r"],
    });
    assert.equal(answered.retry, false);
    assert.equal(answered.status, 308);
    assert.equal(
      answered.message,
      "httpSink: response status 308 Permanent Redirect unaccepted: redirect to https://new.example/in?token=*** not followed: the endpoint moved for good, update its URL",
    );
    const leaky = decide({
      error: new Error("POST http://u:pw@h.example/in?k=v failed: Bearer h3ad3r refused\r\nX: 1"),
      sensitive: ["Bearer h3ad3r"],
    });
    assert.equal(leaky.status, null);
    assert.equal(leaky.message, "POST http://***@h.example/in?k=*** failed: *** refused X: 1");
    assert.equal(decide({ error: new HttpRedirectError(0) }).status, null, "opaque: no status");
  });
});

describe("classifyDeliveryError", () => {
  it("says what is final", () => {
    const table: [unknown, "retry" | "final"][] = [
      [new HttpStatusError(500), "retry"],
      [new HttpStatusError(503), "retry"],
      [new HttpStatusError(408), "retry"],
      [new HttpStatusError(409), "retry"],
      [new HttpStatusError(425), "retry"],
      [new HttpStatusError(429), "retry"],
      [new HttpStatusError(400), "final"],
      [new HttpStatusError(404), "final"],
      [new HttpStatusError(410), "final"],
      [new HttpStatusError(422), "final"],
      [new HttpRedirectError(301), "final"],
      [new HttpRedirectError(308), "final"],
      [new HttpRedirectError(302), "retry"],
      [new HttpRedirectError(303), "retry"],
      [new HttpRedirectError(307), "retry"],
      [new HttpRedirectError(0), "retry"],
      [new HttpTransportError("reset"), "retry"],
      [new HttpTransportError("timeout", { timedOut: true }), "retry"],
      [new TypeError("fetch failed"), "retry"],
      [new Error("anything else"), "retry"],
      [new HttpRequestError("bad header"), "final"],
      [new HttpEncodeError("NaN"), "final"],
      [new SinkClosedError(), "final"],
    ];
    for (const [error, expected] of table) {
      assert.equal(classifyDeliveryError(error), expected, String(error));
    }
  });
});

describe("describeFailure", () => {
  it("masks the longest secrets first, redacts URLs, removes control characters", () => {
    assert.equal(
      describeFailure(new Error("key abcd-efgh and abcd leaked"), ["abcd", "abcd-efgh", "xyz"]),
      "key *** and *** leaked",
      "values under 4 characters are not masked",
    );
    assert.equal(
      describeFailure(new Error("see https://bot:pw@hooks.example/in?token=t0k3n#frag, then")),
      "see https://***@hooks.example/in?token=***, then",
    );
    assert.equal(
      describeFailure(new Error("httpSink{http://h.example/in?a=***}: status")),
      "httpSink{http://h.example/in?a=***}: status",
      "an already redacted URL stays as it is",
    );
    assert.equal(describeFailure(new Error("a\0b\r\nc")), "a b c");
    assert.equal(describeFailure("plain string"), "plain string");
  });

  it("is bounded to 512 characters", () => {
    const long = describeFailure(new Error("x".repeat(2000)));
    assert.equal(long.length, 512);
    assert.ok(long.endsWith("…"));
  });
});

describe("sensitiveValues", () => {
  it("lists header values, secrets, URL userinfo and query values", () => {
    assert.deepEqual(
      sensitiveValues({
        url: "https://bot:pa55@h.example/in?token=t0k3n",
        headers: { Authorization: ["Bearer a"], "X-Key": "k3y" },
        secret: ["whsec_one", "whsec_two"],
      }),
      ["Bearer a", "k3y", "whsec_one", "whsec_two", "bot", "pa55", "t0k3n"],
    );
    assert.deepEqual(sensitiveValues({ secret: "whsec_x", url: "not a url" }), ["whsec_x"]);
    assert.deepEqual(sensitiveValues({}), []);
  });
});

describe("deliveredBefore", () => {
  it("reads what a failed batch already delivered, never the whole batch", () => {
    const partial = (delivered: unknown) => Object.assign(new Error("x"), { delivered });
    assert.equal(deliveredBefore(partial(2), 5), 2);
    assert.equal(deliveredBefore(partial(9), 5), 4);
    assert.equal(deliveredBefore(partial(1.5), 5), 0);
    assert.equal(deliveredBefore(partial(-1), 5), 0);
    assert.equal(deliveredBefore(new Error("x"), 5), 0);
    assert.equal(deliveredBefore(null, 5), 0);
  });
});

// The EndpointQueue's pure delivery decisions: strategies rebuilt from persisted state (as the
// queue does it: the core's strategyFor, then restore) behave like the live core strategies, and
// the core retry policy, applied per row as the queue does, applies limits in RetryingSink's order.
import { describe, expect, it } from "vitest";
import type { EndpointConfig } from "../../src/endpoint/config.ts";
import { strategyFor } from "../../src/endpoint/endpoint.ts";
import { HttpStatusError } from "../../src/sinks/http.ts";
import { decideRetry, type RetryLimits } from "../../src/sinks/retry-policy.ts";
import { Breaker, ExponentialBackoff, type StrategyState } from "../../src/sinks/strategies.ts";
import { outgoingMediaType } from "../../worker/queue/delivery.ts";
import { v1, v2 } from "./queue-support.ts";

/** What EndpointQueue does with its persisted streak before it records an attempt. */
function restoreStrategy(
  config: Pick<EndpointConfig, "strategy">,
  state: StrategyState,
  options: { now?: () => number; random?: () => number } = {},
) {
  const strategy = strategyFor(config, options);
  strategy.restore(state);
  return strategy;
}

describe("strategyFor + restore (persisted retry state)", () => {
  it("brings a breaker to the persisted failure streak", () => {
    let now = 1_000_000;
    const clock = () => now;
    const config = { strategy: { type: "breaker" as const, threshold: 3, backoff: 1000 } };
    const live = new Breaker(3, 1000, { now: clock });
    for (let failures = 0; failures <= 5; failures++) {
      const restored = restoreStrategy(
        config,
        { failures, lastFailureAt: failures ? now : 0 },
        { now: clock },
      );
      now += 300;
      expect(restored.proceed([])).toBe(live.proceed([]));
      now -= 300;
      live.failure([], new Error("x"));
    }
    // Past the threshold: next attempt is backoff after the last failure.
    const restored = restoreStrategy(
      config,
      { failures: 7, lastFailureAt: now - 400 },
      { now: clock },
    );
    expect(restored.proceed([])).toBe(600);
    restored.success([]);
    expect(restored.proceed([])).toBe(0);
  });

  it("brings an exponential backoff to the persisted failure count", () => {
    const config = { strategy: { type: "exponential" as const, base: 5, factor: 10, max: 500 } };
    const random = () => 0.5;
    const live = new ExponentialBackoff({ base: 5, factor: 10, max: 500, random });
    for (let failures = 0; failures < 12; failures++) {
      const restored = restoreStrategy(config, { failures, lastFailureAt: 1 }, { random });
      expect(restored.proceed([])).toBe(live.proceed([]));
      live.failure([], new Error("x"));
    }
    const saturated = restoreStrategy(config, { failures: 10_000, lastFailureAt: 1 }, { random });
    expect(saturated.proceed([])).toBe(250);
  });
});

/** The queue's use of the policy: one decision per row of a failed batch, one strategy answer. */
function planRetry(
  rows: { seq: number; attempts: number; firstAttemptAt: number }[],
  limits: RetryLimits,
  now: number,
  nextAttemptAt: number,
) {
  const retry: number[] = [];
  const dead: { seq: number; reason: string }[] = [];
  for (const row of rows) {
    const decision = decideRetry({
      ...limits,
      attempts: row.attempts,
      firstAttemptAt: row.firstAttemptAt,
      error: new HttpStatusError(503),
      now,
      backoff: () => nextAttemptAt - now,
    });
    if (decision.retry) {
      expect(decision.at).toBe(nextAttemptAt);
      retry.push(row.seq);
    } else dead.push({ seq: row.seq, reason: decision.reason });
  }
  return { retry, dead };
}

describe("the retry policy per row (the former planRetry)", () => {
  const rows = [
    { seq: 1, attempts: 5, firstAttemptAt: 0 },
    { seq: 2, attempts: 2, firstAttemptAt: 0 },
    { seq: 3, attempts: 1, firstAttemptAt: 900 },
  ];

  it("checks maxAttempts, then age now, then the age at the next attempt", () => {
    expect(planRetry(rows, { maxAttempts: 5, maxAge: 1000 }, 1000, 1950)).toEqual({
      retry: [],
      dead: [
        { seq: 1, reason: "max-attempts" },
        { seq: 2, reason: "max-age" },
        { seq: 3, reason: "max-age" },
      ],
    });
    expect(planRetry(rows, { maxAttempts: 5, maxAge: 1000 }, 999, 1500)).toEqual({
      retry: [3],
      dead: [
        { seq: 1, reason: "max-attempts" },
        { seq: 2, reason: "max-age" },
      ],
    });
  });

  it("retries everything without limits", () => {
    expect(planRetry(rows, {}, 10_000_000, 20_000_000)).toEqual({ retry: [1, 2, 3], dead: [] });
    expect(planRetry(rows, { maxAttempts: 0, maxAge: 0 }, 1e12, 2e12)).toEqual({
      retry: [1, 2, 3],
      dead: [],
    });
  });

  it("gives up after 3 days by default", () => {
    const day = 86_400_000;
    expect(planRetry(rows, {}, 3 * day + 900, 3 * day + 901)).toEqual({
      retry: [],
      dead: [
        { seq: 1, reason: "max-age" },
        { seq: 2, reason: "max-age" },
        { seq: 3, reason: "max-age" },
      ],
    });
  });
});

describe("outgoingMediaType", () => {
  it("keeps the line an envelope arrived on, else uses the endpoint's", () => {
    expect(outgoingMediaType(v1, { mediaType: v2 })).toBe(v1);
    expect(outgoingMediaType(v2, { mediaType: v1 })).toBe(v2);
    expect(outgoingMediaType("application/json", { mediaType: v2 })).toBe(v2);
  });
});

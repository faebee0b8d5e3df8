import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEndpointConfig } from "../../src/endpoint/config.ts";
import { strategyFor } from "../../src/endpoint/endpoint.ts";
import { RetryingSink } from "../../src/sinks/retrying.ts";
import type { Sink } from "../../src/sinks/sink.ts";
import { Breaker, ExponentialBackoff } from "../../src/sinks/strategies.ts";

/** A hand-driven clock. */
function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("Breaker", () => {
  it("lets the first `threshold` attempts through, then spaces them `backoff` after the last failure", () => {
    const time = clock();
    const breaker = new Breaker<string>(3, 100, { now: time.now });
    assert.equal(breaker.proceed(["e"]), 0);
    assert.equal(breaker.failure(["e"], new Error("x")), false);
    assert.equal(breaker.proceed(["e"]), 0);
    breaker.failure(["e"], new Error("x"));
    assert.equal(breaker.proceed(["e"]), 0);
    breaker.failure(["e"], new Error("x")); // third consecutive failure at t0
    assert.equal(breaker.proceed(["e"]), 100);
    time.advance(40);
    assert.equal(breaker.proceed(["e"]), 60);
    time.advance(60);
    assert.equal(breaker.proceed(["e"]), 0);
    time.advance(500);
    assert.equal(breaker.proceed(["e"]), 0, "a late attempt goes at once");
    assert.equal(breaker.failure(["e"], new Error("x")), false, "never asks to drop");
    assert.equal(breaker.proceed(["e"]), 100, "measured from the newest failure");
    breaker.success(["e"]);
    assert.equal(breaker.proceed(["e"]), 0, "a success closes the breaker");
  });

  it("drives RetryingSink with distribution's exact timing", async () => {
    const time = clock();
    const waits: number[] = [];
    const attemptsAt: number[] = [];
    let failuresLeft = 6;
    const flaky: Sink<string> = {
      async write() {
        attemptsAt.push(time.now());
        time.advance(7); // each attempt takes 7 ms
        if (failuresLeft-- > 0) throw new Error("receiver down");
      },
      async close() {},
    };
    const retrying = new RetryingSink(flaky, new Breaker<string>(3, 1000, { now: time.now }), {
      now: time.now,
      sleep: async (ms) => {
        waits.push(ms);
        time.advance(ms);
      },
    });
    const t0 = time.now();
    await retrying.write("e");
    // Attempts 1-3 back to back; then one attempt per backoff after the last failure.
    assert.deepEqual(
      attemptsAt.map((t) => t - t0),
      [0, 7, 14, 1021, 2028, 3035, 4042],
    );
    assert.deepEqual(waits, [1000, 1000, 1000, 1000]);
  });

  it("defaults to distribution's threshold and backoff, as parseEndpointConfig does", () => {
    const breaker = new Breaker();
    assert.deepEqual([breaker.threshold, breaker.backoffMs], [10, 1000]);
    const configured = strategyFor(parseEndpointConfig({}));
    assert.ok(configured instanceof Breaker);
    assert.deepEqual([configured.threshold, configured.backoffMs], [10, 1000]);
  });

  it("rejects nonsense parameters", () => {
    assert.throws(() => new Breaker(-1, 10), RangeError);
    assert.throws(() => new Breaker(3, Number.NaN), /backoffMs/);
  });
});

describe("ExponentialBackoff", () => {
  it("stays in [0, min(base + factor·2^(n−1), max)) for 1000 samples per failure count", () => {
    for (const config of [
      { base: 1, factor: 1, max: 5 },
      { base: 1000, factor: 1000, max: 20_000 },
      { base: 0, factor: 3, max: 1000 },
    ]) {
      const backoff = new ExponentialBackoff<string>(config);
      assert.equal(backoff.proceed(["e"]), 0, "no failures, no delay");
      for (let failures = 1; failures <= 10; failures++) {
        assert.equal(backoff.failure(["e"], new Error("x")), false, "never asks to drop");
        const bound = Math.min(config.base + config.factor * 2 ** (failures - 1), config.max);
        let highest = 0;
        for (let sample = 0; sample < 1000; sample++) {
          const delay = backoff.proceed(["e"]);
          assert.ok(delay >= 0 && delay < bound, `${delay} outside [0, ${bound}) at ${failures}`);
          highest = Math.max(highest, delay);
        }
        assert.ok(
          highest > bound * 0.9,
          `full jitter reaches near the bound (${highest}/${bound})`,
        );
      }
      backoff.success(["e"]);
      assert.equal(backoff.proceed(["e"]), 0, "a success resets");
    }
  });

  it("uses go-events' defaults when factor or max is zero, and the injected random", () => {
    const backoff = new ExponentialBackoff<string>({
      base: 5,
      factor: 0,
      max: 0,
      random: () => 0.5,
    });
    assert.equal(backoff.factor, 1000);
    assert.equal(backoff.max, 20_000);
    backoff.failure(["e"], new Error("x"));
    assert.equal(backoff.proceed(["e"]), (5 + 1000) / 2);
    for (let i = 0; i < 60; i++) backoff.failure(["e"], new Error("x"));
    assert.equal(backoff.proceed(["e"]), 10_000, "2^60 is capped at max");
    assert.equal(new ExponentialBackoff().bound(1), 1000);
    const configured = strategyFor(parseEndpointConfig({ strategy: { type: "exponential" } }));
    assert.ok(configured instanceof ExponentialBackoff);
    assert.deepEqual([configured.factor, configured.max], [backoff.factor, backoff.max]);
  });

  it("rejects negative settings", () => {
    assert.throws(() => new ExponentialBackoff({ base: -1 }), /base/);
    assert.throws(() => new ExponentialBackoff({ max: Number.POSITIVE_INFINITY }), /max/);
  });
});

describe("snapshot and restore (durable queues rebuild retry state after a restart)", () => {
  it("Breaker: a restored breaker answers as the one that saw the failures", () => {
    const time = clock();
    const original = new Breaker<string>(2, 1000, { now: time.now });
    assert.deepEqual(original.snapshot(), { failures: 0, lastFailureAt: 0 });
    original.failure(["e"], new Error("x"));
    time.advance(10);
    original.failure(["e"], new Error("x"));
    const saved = original.snapshot();
    assert.deepEqual(saved, { failures: 2, lastFailureAt: time.now() });
    time.advance(300);
    const restored = new Breaker<string>(2, 1000, { now: time.now });
    assert.equal(restored.proceed(["e"]), 0, "fresh: no wait");
    restored.restore(saved);
    assert.equal(restored.proceed(["e"]), 700);
    assert.equal(restored.proceed(["e"]), original.proceed(["e"]));
    assert.deepEqual(restored.snapshot(), saved);
    restored.failure(["e"], new Error("x"));
    assert.deepEqual(restored.snapshot(), { failures: 3, lastFailureAt: time.now() });
    restored.success(["e"]);
    assert.deepEqual(restored.snapshot(), { failures: 0, lastFailureAt: 0 });
    assert.equal(restored.proceed(["e"]), 0);
    restored.restore({ failures: 1, lastFailureAt: time.now() });
    assert.equal(restored.proceed(["e"]), 0, "below the threshold: back to back");
  });

  it("ExponentialBackoff: restoring `failures` restores the delay bound", () => {
    const time = clock();
    const backoff = new ExponentialBackoff<string>({
      base: 0,
      factor: 100,
      max: 10_000,
      random: () => 0.5,
      now: time.now,
    });
    backoff.failure(["e"], new Error("x"));
    backoff.failure(["e"], new Error("x"));
    assert.deepEqual(backoff.snapshot(), { failures: 2, lastFailureAt: time.now() });
    const restored = new ExponentialBackoff<string>({
      factor: 100,
      max: 10_000,
      random: () => 0.5,
    });
    restored.restore({ failures: 4, lastFailureAt: 5 });
    assert.equal(restored.proceed(["e"]), 400, "0.5 × 100·2^3");
    assert.deepEqual(restored.snapshot(), { failures: 4, lastFailureAt: 5 });
    restored.success(["e"]);
    assert.equal(restored.proceed(["e"]), 0);
  });

  it("rejects a state that is not one", () => {
    const breaker = new Breaker(3, 10);
    assert.throws(() => breaker.restore({ failures: -1, lastFailureAt: 0 }), /failures/);
    assert.throws(() => breaker.restore({ failures: 1.5, lastFailureAt: 0 }), /failures/);
    assert.throws(
      () => new ExponentialBackoff().restore({ failures: 1, lastFailureAt: Number.NaN }),
      /lastFailureAt/,
    );
    assert.deepEqual(breaker.snapshot(), { failures: 0, lastFailureAt: 0 }, "left unchanged");
  });
});

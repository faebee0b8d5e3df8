import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpStatusError,
  HttpTransportError,
} from "../../src/sinks/http.ts";
import { defaultMaxAgeMs } from "../../src/sinks/retry-policy.ts";
import {
  classifyDeliveryError,
  type DeadLetter,
  DeadLetterError,
  maxRetryAfterMs,
  RetryingSink,
} from "../../src/sinks/retrying.ts";
import { type Sink, SinkClosedError } from "../../src/sinks/sink.ts";
import { Breaker, ExponentialBackoff, type RetryStrategy } from "../../src/sinks/strategies.ts";
import { prng } from "../support/prng.mjs";

/** go-events' flakySink: fails with probability `rate`, else records the events. */
class FlakySink implements Sink<string> {
  rate = 1.0;
  events: string[] = [];
  attempts = 0;
  closed = 0;
  private readonly random = prng(42);
  async write(...events: string[]) {
    this.attempts++;
    if (this.random() < this.rate) throw new Error("flaky: failed");
    this.events.push(...events);
  }
  async close() {
    this.closed++;
  }
}

/** Fails with the given errors in turn, then succeeds. */
class ScriptedSink implements Sink<string> {
  writes: string[][] = [];
  closed = 0;
  private readonly errors: unknown[];
  constructor(errors: unknown[]) {
    this.errors = [...errors];
  }
  async write(...events: string[]) {
    this.writes.push(events);
    if (this.errors.length > 0) throw this.errors.shift();
  }
  async close() {
    this.closed++;
  }
}

const noWait = async () => {};
const fixed = (ms: number): RetryStrategy<string> => ({
  proceed: () => ms,
  failure: () => false,
  success: () => {},
});

async function flakyRun(strategy: RetryStrategy<string>) {
  const flaky = new FlakySink();
  const retrying = new RetryingSink(flaky, strategy);
  const writes: Promise<void>[] = [];
  for (let i = 1; i <= 100; i++) {
    if (i > 50) flaky.rate = 0.9; // always failing at first, then mostly failing
    writes.push(retrying.write(`myevent-${i}`));
  }
  assert.deepEqual(await Promise.all(writes), new Array(100).fill(undefined));
  const first = retrying.close();
  assert.equal(retrying.close(), first);
  await first;
  await assert.rejects(retrying.write("late"), SinkClosedError);
  assert.equal(flaky.events.length, 100);
  assert.deepEqual(
    [...flaky.events].sort(),
    Array.from({ length: 100 }, (_, i) => `myevent-${i + 1}`).sort(),
  );
  assert.equal(flaky.closed, 1, "close closes the inner sink");
  assert.ok(flaky.attempts > 100, "there were retries");
}

describe("RetryingSink", () => {
  it("gets 100 concurrent writes through a flaky sink with Breaker(3, 10 ms)", async () => {
    await flakyRun(new Breaker(3, 10));
  });

  it("gets 100 concurrent writes through a flaky sink with ExponentialBackoff(1, 1, 5 ms)", async () => {
    await flakyRun(new ExponentialBackoff({ base: 1, factor: 1, max: 5 }));
  });

  it("dead-letters after maxAttempts and resolves", async () => {
    const failure = new HttpStatusError(503);
    const inner = new ScriptedSink(Array(10).fill(failure));
    const letters: DeadLetter<string>[] = [];
    const retrying = new RetryingSink(inner, new Breaker(10, 1000), {
      maxAttempts: 3,
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
      now: () => 5000,
    });
    await retrying.write("a", "b");
    assert.equal(inner.writes.length, 3);
    assert.deepEqual(letters, [
      {
        events: ["a", "b"],
        attempts: 3,
        firstAttemptAt: 5000,
        lastError: failure,
        reason: "max-attempts",
      },
    ]);
    await retrying.write("next");
    assert.deepEqual(inner.writes.at(-1), ["next"], "the next write goes on");
  });

  it("without onDeadLetter, hitting a limit rejects with DeadLetterError instead of dropping", async () => {
    const inner = new ScriptedSink(Array(5).fill(new HttpTransportError("connection refused")));
    const retrying = new RetryingSink(inner, fixed(0), { maxAttempts: 2 });
    const error = await retrying.write("a").then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DeadLetterError);
    assert.equal(error.letter.reason, "max-attempts");
    assert.deepEqual(error.letter.events, ["a"]);
    assert.equal(error.letter.attempts, 2);
    assert.ok(error.cause instanceof HttpTransportError);
    assert.match(error.message, /gave up on 1 event\(s\) after 2 attempt\(s\) \(max-attempts\)/);
  });

  it("dead-letters once maxAge has passed since the first attempt, without a late attempt", async () => {
    let now = 0;
    const inner = new ScriptedSink(Array(100).fill(new HttpStatusError(500)));
    const letters: DeadLetter<string>[] = [];
    const retrying = new RetryingSink(inner, fixed(100), {
      maxAge: 250,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
    });
    await retrying.write("a");
    // The strategy waits 100 before each attempt: attempts at 100, 200, 300; 400 would be late.
    assert.equal(inner.writes.length, 3);
    assert.equal(letters[0]?.reason, "max-age");
    assert.equal(letters[0]?.attempts, 3);
    assert.equal(letters[0]?.firstAttemptAt, 100);
  });

  it("treats 4xx as final except 408, 409, 425 and 429", async () => {
    for (const status of [400, 401, 403, 404, 405, 410, 413, 415, 422]) {
      const inner = new ScriptedSink([new HttpStatusError(status)]);
      const letters: DeadLetter<string>[] = [];
      const retrying = new RetryingSink(inner, fixed(0), {
        onDeadLetter: (letter) => {
          letters.push(letter);
        },
      });
      await retrying.write("a");
      assert.equal(inner.writes.length, 1, `${status} is not retried`);
      assert.equal(letters[0]?.reason, "final", `${status} is final`);
      assert.equal(classifyDeliveryError(new HttpStatusError(status)), "final");
    }
    for (const status of [408, 409, 425, 429, 500, 502, 503, 504]) {
      const inner = new ScriptedSink([new HttpStatusError(status), new HttpStatusError(status)]);
      const retrying = new RetryingSink(inner, fixed(0), {
        onDeadLetter: () => assert.fail(`${status} must be retried`),
      });
      await retrying.write("a");
      assert.equal(inner.writes.length, 3, `${status} is retried until it succeeds`);
      assert.equal(classifyDeliveryError(new HttpStatusError(status)), "retry");
    }
    assert.equal(classifyDeliveryError(new HttpTransportError("reset")), "retry");
    assert.equal(classifyDeliveryError(new TypeError("fetch failed")), "retry");
    assert.equal(classifyDeliveryError(new SinkClosedError()), "final");
  });

  it("uses a custom classification, and a strategy that asks to drop ends in a final dead letter", async () => {
    const quota = new Error("quota exceeded");
    const inner = new ScriptedSink([quota]);
    const letters: DeadLetter<string>[] = [];
    const retrying = new RetryingSink(inner, fixed(0), {
      classify: (error) => (error === quota ? "final" : "retry"),
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
    });
    await retrying.write("a");
    assert.equal(letters[0]?.reason, "final");

    const dropping: RetryStrategy<string> = {
      proceed: () => 0,
      failure: () => true,
      success: () => {},
    };
    const again = new RetryingSink(new ScriptedSink([new HttpStatusError(503)]), dropping);
    await assert.rejects(
      again.write("b"),
      (e: unknown) => e instanceof DeadLetterError && e.letter.reason === "final",
    );
  });

  it("honours Retry-After (measured): waits max(strategy delay, Retry-After)", async () => {
    const inner = new ScriptedSink([new HttpStatusError(429, { retryAfterMs: 200 })]);
    const retrying = new RetryingSink(inner, new Breaker(10, 1000));
    const started = performance.now();
    await retrying.write("a");
    const elapsed = performance.now() - started;
    assert.equal(inner.writes.length, 2);
    // The breaker alone would retry at once (threshold 10); Retry-After asked for 200 ms.
    assert.ok(elapsed >= 190, `waited ${elapsed.toFixed(1)} ms`);
    assert.ok(elapsed < 1000, `waited ${elapsed.toFixed(1)} ms`);
  });

  it("takes the larger of strategy delay and Retry-After, capped at maxRetryAfter", async () => {
    const record = async (errors: unknown[], strategyMs: number, maxRetryAfter?: number) => {
      const waits: number[] = [];
      const retrying = new RetryingSink(new ScriptedSink(errors), fixed(strategyMs), {
        sleep: async (ms) => {
          waits.push(ms);
        },
        ...(maxRetryAfter !== undefined && { maxRetryAfter }),
      });
      await retrying.write("a");
      return waits;
    };
    assert.deepEqual(
      await record([new HttpStatusError(503, { retryAfterMs: 100 })], 300),
      [300, 300],
    );
    assert.deepEqual(
      await record([new HttpStatusError(503, { retryAfterMs: 900 })], 300),
      [300, 900],
    );
    assert.deepEqual(
      await record([new HttpStatusError(429, { retryAfterMs: 3_600_000 })], 0),
      [maxRetryAfterMs],
      "a one-hour Retry-After is capped at 5 minutes",
    );
    assert.deepEqual(
      await record([new HttpStatusError(429, { retryAfterMs: 3_600_000 })], 0, 50),
      [50],
    );
    assert.equal(maxRetryAfterMs, 300_000);
  });

  it("close aborts a backoff wait (the write rejects SinkClosedError) and closes the inner sink", async () => {
    const inner = new ScriptedSink(Array(10).fill(new HttpStatusError(503)));
    const retrying = new RetryingSink(inner, fixed(10_000));
    const pending = retrying.write("a");
    await new Promise((resolve) => setTimeout(resolve, 20)); // first attempt failed, now waiting
    const started = performance.now();
    await retrying.close();
    await assert.rejects(pending, SinkClosedError);
    assert.ok(performance.now() - started < 500, "did not wait out the backoff");
    assert.equal(inner.closed, 1);
    assert.equal(inner.writes.length, 0, "the first attempt waited too: the strategy said 10 s");
  });

  it("close also cancels a backoff that begins after it (an attempt in flight at close fails)", async () => {
    let failAttempt: (error: unknown) => void = () => {};
    const inner = {
      attempts: 0,
      closed: 0,
      write(..._events: string[]): Promise<void> {
        this.attempts++;
        return new Promise((_resolve, reject) => {
          failAttempt = reject;
        });
      },
      async close() {
        this.closed++;
      },
    } satisfies Sink<string> & { attempts: number; closed: number };
    let failures = 0;
    const backoff: RetryStrategy<string> = {
      proceed: () => (failures > 0 ? 1500 : 0),
      failure: () => {
        failures++;
        return false;
      },
      success: () => {},
    };
    const retrying = new RetryingSink(inner, backoff);
    const outcome = retrying.write("a").then(
      () => "resolved",
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(inner.attempts, 1, "the first attempt is in flight");
    const closing = retrying.close();
    const started = performance.now();
    failAttempt(new HttpStatusError(503)); // retryable: the strategy now says wait 1.5 s
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = await Promise.race([
      outcome,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve("still waiting after 300 ms"), 300);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(settled instanceof SinkClosedError, `the write settled with: ${String(settled)}`);
    await closing;
    assert.ok(performance.now() - started < 300, "close did not wait out the backoff");
    assert.equal(inner.attempts, 1, "no attempt after close");
    assert.equal(inner.closed, 1);
  });

  it("rethrows SinkClosedError from the inner sink at once", async () => {
    const inner = new ScriptedSink([new SinkClosedError("inner")]);
    const retrying = new RetryingSink(inner, fixed(0));
    await assert.rejects(retrying.write("a"), SinkClosedError);
    assert.equal(inner.writes.length, 1);
  });

  it("resends only what a failed batch did not deliver", async () => {
    const partial = Object.assign(new HttpStatusError(503), { delivered: 2 });
    const inner = new ScriptedSink([partial]);
    const retrying = new RetryingSink(inner, fixed(0));
    await retrying.write("a", "b", "c");
    assert.deepEqual(inner.writes, [["a", "b", "c"], ["c"]]);
  });

  it("rejects with the dead-letter handler's error when it fails", async () => {
    const parked = new Error("dead-letter store down");
    const retrying = new RetryingSink(new ScriptedSink([new HttpStatusError(400)]), fixed(0), {
      onDeadLetter: () => {
        throw parked;
      },
    });
    await assert.rejects(retrying.write("a"), (e: unknown) => e === parked);
  });

  it("validates its limits (0 is unlimited, not an error)", () => {
    const inner = new ScriptedSink([]);
    assert.throws(() => new RetryingSink(inner, fixed(0), { maxAttempts: -1 }), /maxAttempts/);
    assert.throws(() => new RetryingSink(inner, fixed(0), { maxAttempts: 1.5 }), /maxAttempts/);
    assert.throws(
      () => new RetryingSink(inner, fixed(0), { maxAttempts: Number.NaN }),
      /maxAttempts/,
    );
    assert.throws(() => new RetryingSink(inner, fixed(0), { maxAge: -5 }), /maxAge/);
    assert.throws(() => new RetryingSink(inner, fixed(0), { maxAge: Number.NaN }), /maxAge/);
    new RetryingSink(inner, fixed(0), { maxAttempts: 0, maxAge: 0 });
    void noWait;
  });

  it("gives up after 3 days when maxAge is not set (no event is retried forever by default)", async () => {
    let now = 1_000_000;
    let attempts = 0;
    // Fails for 100 days, then recovers (so that code retrying forever ends too).
    const inner: Sink<string> = {
      async write() {
        attempts++;
        if (now < 1_000_000 + 100 * 86_400_000) throw new HttpStatusError(503);
      },
      async close() {},
    };
    const letters: DeadLetter<string>[] = [];
    let failures = 0;
    const hourly: RetryStrategy<string> = {
      proceed: () => (failures > 0 ? 3_600_000 : 0),
      failure: () => {
        failures++;
        return false;
      },
      success: () => {},
    };
    const retrying = new RetryingSink(inner, hourly, {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
    });
    await retrying.write("a");
    assert.equal(defaultMaxAgeMs, 3 * 24 * 3_600_000);
    // Attempts at 0 h, 1 h, ..., 72 h: the one after would start past 3 days.
    assert.equal(attempts, 73);
    assert.equal(letters[0]?.reason, "max-age");
    assert.equal(letters[0]?.attempts, 73);
    assert.equal(now - 1_000_000, 72 * 3_600_000);
  });

  it("maxAttempts: 0 and maxAge: 0 retry without limit", async () => {
    let now = 0;
    const inner = new ScriptedSink(Array(200).fill(new HttpStatusError(503)));
    const retrying = new RetryingSink(inner, fixed(86_400_000), {
      maxAttempts: 0,
      maxAge: 0,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      onDeadLetter: () => assert.fail("nothing may be given up on"),
    });
    await retrying.write("a");
    assert.equal(inner.writes.length, 201, "200 days of failures, then delivered");
  });

  it("a request that cannot be built and a permanent redirect are final at once; other redirects are retried", async () => {
    const final = [
      new HttpRequestError("bad header"),
      new HttpEncodeError("NaN"),
      new HttpRedirectError(301, { location: "https://new.example/in" }),
      new HttpRedirectError(308, { location: "https://new.example/in" }),
    ];
    for (const error of final) {
      const inner = new ScriptedSink([error]);
      const letters: DeadLetter<string>[] = [];
      const retrying = new RetryingSink(inner, fixed(0), {
        onDeadLetter: (letter) => {
          letters.push(letter);
        },
      });
      await retrying.write("a");
      assert.equal(inner.writes.length, 1, `${error.name} is not retried`);
      assert.equal(letters[0]?.reason, "final", error.message);
    }
    for (const status of [0, 302, 303, 307]) {
      const inner = new ScriptedSink([new HttpRedirectError(status)]);
      const retrying = new RetryingSink(inner, fixed(0), {
        onDeadLetter: () => assert.fail(`${status} must be retried`),
      });
      await retrying.write("a");
      assert.equal(inner.writes.length, 2, `${status} is retried`);
    }
  });
});

// Retries a write until it succeeds (go-events' `RetryingSink`), plus what upstream lacks: attempt
// and age limits, final-error classification and `Retry-After`, all ending in a dead letter. What a
// failure means is decided by the shared retry policy (retry-policy.ts), as in the relay's queue.

import type { Event } from "../event/schema.ts";
import {
  classifyDeliveryError,
  type DeadLetterReason,
  type DeliveryClass,
  decideRetry,
  deliveredBefore,
  maxRetryAfterMs,
} from "./retry-policy.ts";
import { type Sink, SinkClosedError } from "./sink.ts";
import type { Clock, RetryStrategy } from "./strategies.ts";

// Moved to the shared policy; still importable from here.
export {
  classifyDeliveryError,
  type DeadLetterReason,
  type DeliveryClass,
  maxRetryAfterMs,
} from "./retry-policy.ts";

/**
 * Events a {@link RetryingSink} gave up on, with why and how hard it tried.
 *
 * @example
 * ```ts
 * import type { DeadLetter } from "registry-relay";
 * const park = (letter: DeadLetter) =>
 *   console.warn(`${letter.events.length} event(s) dead after ${letter.attempts} attempts: ${letter.reason}`);
 * ```
 */
export interface DeadLetter<E = Event> {
  /** The events not delivered (a partly delivered batch lists only the rest). */
  events: E[];
  /** Attempts made. */
  attempts: number;
  /** When the first attempt started, in ms since the epoch. */
  firstAttemptAt: number;
  /** The error of the last attempt. */
  lastError: unknown;
  reason: DeadLetterReason;
}

/**
 * Options of {@link RetryingSink}. Durations are milliseconds.
 *
 * @example
 * ```ts
 * import type { RetryingSinkOptions } from "registry-relay";
 * const options: RetryingSinkOptions = {
 *   maxAttempts: 10,
 *   maxAge: 24 * 3600_000,
 *   onDeadLetter: async (letter) => { await parkSomewhere(letter); },
 * };
 * ```
 */
export interface RetryingSinkOptions<E = Event> {
  /** Give up after this many attempts (missing or 0: no limit, as upstream). */
  maxAttempts?: number;
  /**
   * Start no attempt later than this long after the first one (missing: {@link defaultMaxAgeMs},
   * 3 days; 0: no limit, retry forever as upstream).
   */
  maxAge?: number;
  /**
   * Receives what was given up on; the write then resolves and the queue moves on. Without it,
   * giving up rejects the write with {@link DeadLetterError} so nothing disappears silently.
   * If it throws, the write rejects with that error.
   */
  onDeadLetter?(letter: DeadLetter<E>): void | Promise<void>;
  /** Default {@link classifyDeliveryError}. */
  classify?(error: unknown): DeliveryClass;
  /** Waits `ms`; must reject when `signal` aborts (default: a timer). */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** Clock for `maxAge` and `firstAttemptAt` (default `Date.now`). */
  now?: Clock;
  /** Largest `Retry-After` honoured, in ms (default {@link maxRetryAfterMs}, 5 minutes). */
  maxRetryAfter?: number;
}

/**
 * Rejection of a {@link RetryingSink} write that gave up while no `onDeadLetter` was configured.
 * `letter` says what was given up on and why; `cause` is the last attempt's error.
 *
 * @example
 * ```ts
 * import { DeadLetterError } from "registry-relay";
 * try { await retrying.write(event); } catch (e) {
 *   if (e instanceof DeadLetterError) console.warn(e.letter.reason, e.letter.attempts);
 * }
 * ```
 */
export class DeadLetterError<E = Event> extends Error {
  override readonly name = "DeadLetterError";
  readonly letter: DeadLetter<E>;
  constructor(letter: DeadLetter<E>) {
    const last =
      letter.lastError instanceof Error ? letter.lastError.message : String(letter.lastError);
    super(
      `retryingSink: gave up on ${letter.events.length} event(s) after ${letter.attempts} attempt(s) (${letter.reason}): ${last}`,
      { cause: letter.lastError },
    );
    this.letter = letter;
  }
}

function limit(value: number | undefined, what: "maxAttempts" | "maxAge"): number | undefined {
  if (value === undefined) return undefined;
  const integer = what === "maxAttempts";
  if (!(value >= 0) || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `RetryingSink ${what} must be ${integer ? "an integer" : "a number"} >= 0 (0: unlimited), got ${value}`,
    );
  }
  return value;
}

/**
 * Retries each write into `sink` until it succeeds, waiting what the strategy says (and at least
 * a capped `Retry-After`) between attempts. It gives up, by handing a {@link DeadLetter} to
 * `onDeadLetter` and resolving, when `maxAttempts` or `maxAge` (3 days unless set; 0 for never)
 * is reached or a failure is final (see {@link classifyDeliveryError}); without `onDeadLetter`
 * giving up rejects with {@link DeadLetterError}. {@link SinkClosedError} from `sink` is rethrown
 * at once. Each failure is decided by {@link decideRetry}, the policy the relay's durable queue
 * applies too.
 *
 * Concurrent writes are not serialised (as in go-events); per-endpoint order comes from the
 * single drainer of the {@link EventQueue} in front. `close` aborts every backoff wait (those
 * writes reject with {@link SinkClosedError}), waits for attempts in flight, then closes `sink`.
 *
 * @example
 * ```ts
 * import { Breaker, HttpSink, RetryingSink } from "registry-relay";
 * const retrying = new RetryingSink(new HttpSink(url), new Breaker(10, 1000), {
 *   maxAttempts: 20,
 *   onDeadLetter: (letter) => console.warn("dead letter", letter.reason, letter.events.map((e) => e.id)),
 * });
 * await retrying.write(event);
 * ```
 */
export class RetryingSink<E = Event> implements Sink<E> {
  readonly #sink: Sink<E>;
  readonly #strategy: RetryStrategy<E>;
  readonly #maxAttempts: number | undefined;
  readonly #maxAge: number | undefined;
  readonly #maxRetryAfter: number;
  readonly #onDeadLetter: RetryingSinkOptions<E>["onDeadLetter"];
  readonly #classify: (error: unknown) => DeliveryClass;
  readonly #sleep: RetryingSinkOptions<E>["sleep"];
  // Default timers, cancelled by close (one listener per wait on a shared AbortSignal would
  // pile up under many concurrent writes).
  readonly #sleepers = new Set<{ timer: ReturnType<typeof setTimeout>; cancel(): void }>();
  readonly #now: Clock;
  readonly #abort = new AbortController();
  /** Writes not yet settled; close waits for 0 (a counter: no bookkeeping promise per write). */
  #active = 0;
  #idle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(sink: Sink<E>, strategy: RetryStrategy<E>, options: RetryingSinkOptions<E> = {}) {
    this.#sink = sink;
    this.#strategy = strategy;
    this.#maxAttempts = limit(options.maxAttempts, "maxAttempts");
    this.#maxAge = limit(options.maxAge, "maxAge");
    this.#maxRetryAfter = options.maxRetryAfter ?? maxRetryAfterMs;
    this.#onDeadLetter = options.onDeadLetter;
    this.#classify = options.classify ?? classifyDeliveryError;
    this.#sleep = options.sleep;
    this.#now = options.now ?? Date.now;
  }

  write(...events: E[]): Promise<void> {
    if (this.#closing) return Promise.reject(new SinkClosedError("retryingSink"));
    return this.#deliver(events);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort(new SinkClosedError("retryingSink"));
      for (const sleeper of this.#sleepers) sleeper.cancel();
      if (this.#active > 0) {
        await new Promise<void>((resolve) => {
          this.#idle = resolve;
        });
      }
      await this.#sink.close();
    })();
    return this.#closing;
  }

  async #deliver(events: E[]): Promise<void> {
    if (events.length === 0) return;
    this.#active++;
    let remaining = events;
    let attempts = 0;
    let firstAttemptAt = 0;
    try {
      // Even the first attempt waits while the strategy says so (a breaker other writes opened).
      let wait = this.#strategy.proceed(remaining);
      for (;;) {
        if (wait > 0) {
          try {
            await this.#pause(wait);
          } catch (error) {
            if (this.#closing) throw new SinkClosedError("retryingSink");
            throw error;
          }
        }
        if (this.#closing) throw new SinkClosedError("retryingSink");
        if (attempts === 0) firstAttemptAt = this.#now();
        attempts++;
        try {
          await this.#sink.write(...remaining);
          this.#strategy.success(remaining);
          return;
        } catch (error) {
          if (error instanceof SinkClosedError) throw error;
          remaining = remaining.slice(deliveredBefore(error, remaining.length));
          const failed = remaining;
          const decision = decideRetry({
            maxAttempts: this.#maxAttempts,
            maxAge: this.#maxAge,
            maxRetryAfter: this.#maxRetryAfter,
            attempts,
            firstAttemptAt,
            error,
            now: this.#now(),
            classify: this.#classify,
            backoff: () =>
              this.#strategy.failure(failed, error) ? "drop" : this.#strategy.proceed(failed),
          });
          if (!decision.retry) {
            // Awaited, so that close also waits for the dead-letter handler.
            return await this.#deadLetter({
              events: remaining,
              attempts,
              firstAttemptAt,
              lastError: error,
              reason: decision.reason,
            });
          }
          wait = decision.wait;
        }
      }
    } finally {
      if (--this.#active === 0) this.#idle?.();
    }
  }

  #pause(ms: number): Promise<void> {
    // A wait that begins after close (an attempt in flight at close failed) ends at once too.
    if (this.#closing) return Promise.reject(new SinkClosedError("retryingSink"));
    if (this.#sleep) return this.#sleep(ms, this.#abort.signal);
    return new Promise((resolve, reject) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.#sleepers.delete(sleeper);
          resolve();
        }, ms),
        cancel: () => {
          clearTimeout(sleeper.timer);
          this.#sleepers.delete(sleeper);
          reject(new SinkClosedError("retryingSink"));
        },
      };
      this.#sleepers.add(sleeper);
    });
  }

  async #deadLetter(letter: DeadLetter<E>): Promise<void> {
    if (!this.#onDeadLetter) throw new DeadLetterError(letter);
    await this.#onDeadLetter(letter);
  }
}

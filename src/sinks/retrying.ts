// Retries a write until it succeeds (go-events' `RetryingSink`), plus what upstream lacks: attempt
// and age limits, final-error classification and `Retry-After`, all ending in a dead letter. What a
// failure means is decided by the shared retry policy (retry-policy.ts), as in the relay's queue.

import type { Event } from "../event/schema.ts";
import { atLeast } from "./defaults.ts";
import { type DeadLetterReason, type DeliveryClass, decideAttempt } from "./retry-decision.ts";
import { deliveredBefore } from "./retry-policy.ts";
import { type Sink, SinkClosedError } from "./sink.ts";
import type { Clock, RetryStrategy } from "./strategies.ts";

// Moved to the shared policy; still importable from here.
export {
  classifyDeliveryError,
  type DeadLetterReason,
  type DeliveryClass,
  maxRetryAfterMs,
} from "./retry-decision.ts";

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
  declare readonly letter: DeadLetter<E>;
  constructor(letter: DeadLetter<E>) {
    const { lastError: cause } = letter;
    const last = cause instanceof Error ? cause.message : String(cause);
    super(
      `retryingSink: gave up on ${letter.events.length} event(s) after ${letter.attempts} attempt(s) (${letter.reason}): ${last}`,
      { cause },
    );
    this.letter = letter;
  }
}

/** The rejection of writes and waits once closing. */
const closed = () => new SinkClosedError("retryingSink");

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
  /** A copy of the options: the limits and `classify` go to every decision as they are. */
  readonly #options: RetryingSinkOptions<E>;
  // Wakers of default timers, run by close (one listener per wait on a shared AbortSignal
  // would pile up under many concurrent writes).
  readonly #sleepers = new Set<() => void>();
  readonly #now: Clock;
  readonly #abort = new AbortController();
  /** Writes not yet settled; close waits for 0 (a counter: no bookkeeping promise per write). */
  #active = 0;
  #idle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(sink: Sink<E>, strategy: RetryStrategy<E>, options: RetryingSinkOptions<E> = {}) {
    const { maxAttempts, maxAge } = options;
    if (maxAttempts !== undefined)
      atLeast("RetryingSink maxAttempts", maxAttempts, 0, "an integer");
    if (maxAge !== undefined) atLeast("RetryingSink maxAge", maxAge, 0, "a number");
    this.#sink = sink;
    this.#strategy = strategy;
    this.#options = { ...options };
    this.#now = options.now ?? Date.now;
  }

  async write(...events: E[]): Promise<void> {
    if (this.#closing) throw closed();
    if (events.length === 0) return;
    this.#active++;
    let attempts = 0;
    let firstAttemptAt = 0;
    try {
      // Even the first attempt waits while the strategy says so (a breaker other writes opened).
      for (let wait = this.#strategy.proceed(events); ; ) {
        // A wait that begins after close (an attempt in flight at close failed) ends at once too.
        if (wait > 0 && !this.#closing) {
          await this.#pause(wait).catch((error) => {
            if (!this.#closing) throw error;
          });
        }
        if (this.#closing) throw closed();
        if (attempts++ === 0) firstAttemptAt = this.#now();
        try {
          await this.#sink.write(...events);
          return this.#strategy.success(events);
        } catch (error) {
          if (error instanceof SinkClosedError) throw error;
          // Only what earlier POSTs did not deliver is retried (or dead-lettered).
          events = events.slice(deliveredBefore(error, events.length));
          const decision = decideAttempt({
            ...this.#options,
            attempts,
            firstAttemptAt,
            error,
            now: this.#now(),
            // Called at once, inside decideAttempt: `events` are still the failed ones.
            backoff: () =>
              this.#strategy.failure(events, error) ? "drop" : this.#strategy.proceed(events),
          });
          if (!decision.retry) {
            const letter = {
              events,
              attempts,
              firstAttemptAt,
              lastError: error,
              reason: decision.reason,
            };
            const { onDeadLetter } = this.#options;
            if (!onDeadLetter) throw new DeadLetterError(letter);
            // Awaited, so that close also waits for the dead-letter handler.
            return void (await onDeadLetter(letter));
          }
          wait = decision.wait;
        }
      }
    } finally {
      if (--this.#active === 0) this.#idle?.();
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort(closed());
      for (const wake of this.#sleepers) wake();
      if (this.#active > 0) {
        await new Promise<void>((resolve) => {
          this.#idle = resolve;
        });
      }
      await this.#sink.close();
    })();
    return this.#closing;
  }

  #pause(ms: number): Promise<void> {
    const { sleep } = this.#options;
    if (sleep) return sleep(ms, this.#abort.signal);
    // Close wakes it early; the write then finds itself closed.
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }
}

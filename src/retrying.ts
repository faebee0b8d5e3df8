// Retries a write until it succeeds (go-events' `RetryingSink`), plus what upstream lacks: attempt
// and age limits, final-error classification and `Retry-After`, all ending in a dead letter.
import { HttpEncodeError, HttpStatusError } from "./http.ts";
import type { Event } from "./schema.ts";
import { type Sink, SinkClosedError } from "./sink.ts";
import type { Clock, RetryStrategy } from "./strategies.ts";

/**
 * How a failed attempt is treated: `"retry"` it, or `"final"` (retrying cannot help; dead-letter
 * the events now).
 *
 * @example
 * ```ts
 * import type { DeliveryClass } from "registry-relay";
 * const classify = (error: unknown): DeliveryClass => (String(error).includes("quota") ? "final" : "retry");
 * ```
 */
export type DeliveryClass = "retry" | "final";

/**
 * Why events were dead-lettered: the attempt limit, the age limit, or a final failure (a
 * classification of `"final"`, or the strategy asking to drop).
 *
 * @example
 * ```ts
 * import type { DeadLetterReason } from "registry-relay";
 * const alerting: DeadLetterReason[] = ["max-age", "final"];
 * ```
 */
export type DeadLetterReason = "max-attempts" | "max-age" | "final";

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
  /** Give up after this many attempts (default: never, as upstream). */
  maxAttempts?: number;
  /** Start no attempt later than this long after the first one (default: never). */
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
 * The default cap on a receiver's `Retry-After` (5 minutes): long enough for a throttling
 * receiver, short enough that a bogus `Retry-After: 86400` cannot stall an endpoint for a day.
 * The strategy's own delay is not capped.
 *
 * @example
 * ```ts
 * import { maxRetryAfterMs, RetryingSink } from "registry-relay";
 * new RetryingSink(http, strategy, { maxRetryAfter: 2 * maxRetryAfterMs });
 * ```
 */
export const maxRetryAfterMs = 5 * 60_000;

/** 4xx statuses that mean "later may work": timeout, conflict, too early, throttled. */
const retryable4xx = new Set([408, 409, 425, 429]);

/**
 * The default classification: an {@link HttpStatusError} with a 4xx status is final except 408,
 * 409, 425 and 429; 5xx and transport errors are retried; an {@link HttpEncodeError} is final.
 * {@link SinkClosedError} is terminal (`"final"`; RetryingSink rethrows it before classifying).
 *
 * @example
 * ```ts
 * import { classifyDeliveryError, HttpStatusError } from "registry-relay";
 * classifyDeliveryError(new HttpStatusError(400)); // "final"
 * classifyDeliveryError(new HttpStatusError(429)); // "retry"
 * ```
 */
export function classifyDeliveryError(error: unknown): DeliveryClass {
  if (error instanceof SinkClosedError || error instanceof HttpEncodeError) return "final";
  if (error instanceof HttpStatusError) {
    const { status } = error;
    if (status >= 400 && status < 500 && !retryable4xx.has(status)) return "final";
  }
  return "retry";
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

/** `Retry-After` carried by an error (as `retryAfterMs`), 0 when absent. */
function retryAfterOf(error: unknown): number {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === "number" && value > 0 ? value : 0;
}

/** Drops the events an error says were already delivered (an HttpSink batch failing midway). */
function undelivered<E>(events: E[], error: unknown): E[] {
  const delivered = (error as { delivered?: unknown } | null)?.delivered;
  if (typeof delivered !== "number" || !Number.isInteger(delivered) || delivered <= 0)
    return events;
  return events.slice(Math.min(delivered, events.length - 1));
}

function optionalLimit(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value > 0) || (what === "maxAttempts" && !Number.isInteger(value))) {
    throw new RangeError(
      `RetryingSink ${what} must be a positive ${what === "maxAttempts" ? "integer" : "number"}, got ${value}`,
    );
  }
  return value;
}

/**
 * Retries each write into `sink` until it succeeds, waiting what the strategy says (and at least
 * a capped `Retry-After`) between attempts. It gives up, by handing a {@link DeadLetter} to
 * `onDeadLetter` and resolving, when `maxAttempts` or `maxAge` is reached or a failure is final
 * (see {@link classifyDeliveryError}); without `onDeadLetter` giving up rejects with
 * {@link DeadLetterError}. {@link SinkClosedError} from `sink` is rethrown at once.
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
    this.#maxAttempts = optionalLimit(options.maxAttempts, "maxAttempts");
    this.#maxAge = optionalLimit(options.maxAge, "maxAge");
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
    let lastError: unknown;
    let retryAfter = 0;
    // Awaited, so that close also waits for the dead-letter handler.
    const giveUp = (reason: DeadLetterReason) =>
      this.#deadLetter({ events: remaining, attempts, firstAttemptAt, lastError, reason });
    try {
      for (;;) {
        const wait = Math.max(
          this.#strategy.proceed(remaining),
          Math.min(retryAfter, this.#maxRetryAfter),
        );
        // An attempt that could only start after the age limit is not made.
        if (
          attempts > 0 &&
          this.#maxAge !== undefined &&
          this.#now() + wait - firstAttemptAt > this.#maxAge
        ) {
          return await giveUp("max-age");
        }
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
          lastError = error;
          remaining = undelivered(remaining, error);
          if (this.#classify(error) === "final") return await giveUp("final");
          if (this.#strategy.failure(remaining, error)) return await giveUp("final");
          if (this.#maxAttempts !== undefined && attempts >= this.#maxAttempts) {
            return await giveUp("max-attempts");
          }
          if (this.#maxAge !== undefined && this.#now() - firstAttemptAt >= this.#maxAge) {
            return await giveUp("max-age");
          }
          retryAfter = retryAfterOf(error);
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

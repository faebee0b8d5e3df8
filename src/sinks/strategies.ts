// Retry strategies for RetryingSink, ported from go-events (`Breaker`, `ExponentialBackoff`).
// Both keep state across writes (a success on any write resets it), as upstream does, and can
// hand that state out and take it back (`snapshot`, `restore`) for queues that outlive their runtime.
import type { Event } from "../event/schema.ts";
import { atLeast, endpointDefaults } from "./defaults.ts";

/**
 * Decides how long a {@link RetryingSink} waits before each attempt and whether a failure drops
 * the events (go-events' `RetryStrategy`).
 *
 * @example
 * ```ts
 * import type { RetryStrategy } from "registry-relay";
 * const fixed: RetryStrategy = {
 *   proceed: () => 500,     // wait 500 ms before every attempt
 *   failure: () => false,   // never give up (limits live in RetryingSink)
 *   success: () => {},
 * };
 * ```
 */
export interface RetryStrategy<E = Event> {
  /** Milliseconds to wait before the next attempt for `events` (0: go now). */
  proceed(events: E[]): number;
  /** Records a failed attempt; `true` asks RetryingSink to stop retrying these events. */
  failure(events: E[], error: unknown): boolean;
  success(events: E[]): void;
}

/**
 * A clock in milliseconds since the epoch (injectable for deterministic tests).
 *
 * @example
 * ```ts
 * import { Breaker, type Clock } from "registry-relay";
 * let t = 0;
 * const clock: Clock = () => t;
 * const breaker = new Breaker(3, 1000, { now: clock });
 * ```
 */
export type Clock = () => number;

/**
 * The whole state of a {@link Breaker} or {@link ExponentialBackoff}: consecutive failed attempts
 * and when the last one failed (ms since the epoch; 0 when none). Persist `snapshot()` after each
 * attempt and `restore()` it after a restart to keep the same timing.
 *
 * @example
 * ```ts
 * import type { StrategyState } from "registry-relay";
 * const fresh: StrategyState = { failures: 0, lastFailureAt: 0 };
 * ```
 */
export interface StrategyState {
  failures: number;
  lastFailureAt: number;
}

/** A strategy setting or a restored time: a finite number of ms (or failures) >= 0. */
const nonNegative = (what: string, value: number) => atLeast(what, value, 0, "a finite number");

/** Base of both strategies: the failure streak, its last time, and how to save and load them. */
abstract class Streak<E> implements RetryStrategy<E> {
  #failures = 0;
  #lastFailureAt = 0;
  readonly #now: Clock;

  constructor(now: Clock = Date.now) {
    this.#now = now;
  }

  /** The wait before the next attempt after `failures` failures, the last at `lastFailureAt`. */
  protected abstract delay(failures: number, lastFailureAt: number, now: Clock): number;

  proceed(_events: E[]): number {
    return this.delay(this.#failures, this.#lastFailureAt, this.#now);
  }

  failure(_events: E[], _error: unknown): boolean {
    this.#failures++;
    this.#lastFailureAt = this.#now();
    return false;
  }

  success(_events: E[]): void {
    this.#failures = this.#lastFailureAt = 0;
  }

  /** A copy of the state, to persist. */
  snapshot(): StrategyState {
    return { failures: this.#failures, lastFailureAt: this.#lastFailureAt };
  }

  /**
   * Takes back a state from {@link snapshot} (say after a restart): later `proceed` calls answer
   * as if those failures had happened here. Throws RangeError for a negative or fractional count.
   */
  restore({ failures, lastFailureAt }: StrategyState): void {
    // Both checked before either is set: a bad state leaves this one unchanged.
    atLeast("restore: failures", failures, 0, "an integer");
    this.#lastFailureAt = nonNegative("restore: lastFailureAt", lastFailureAt);
    this.#failures = failures;
  }
}

/**
 * Distribution's circuit breaker: after `threshold` consecutive failures, attempts are spaced
 * `backoffMs` after the last failure. The first `threshold` attempts of a failure streak go back
 * to back; it never asks to drop. The defaults are distribution's: `new Breaker()` is
 * `new Breaker(10, 1000)`. `snapshot()` and `restore(state)` save and load its {@link StrategyState}.
 *
 * @example
 * ```ts
 * import { Breaker, RetryingSink } from "registry-relay";
 * const retrying = new RetryingSink(http, new Breaker(5, 2000));
 * const restored = new Breaker(); // distribution's: 10 failures, then 1 s apart
 * restored.restore({ failures: 12, lastFailureAt: Date.now() - 400 }); // proceed() ≈ 600
 * ```
 */
export class Breaker<E = Event> extends Streak<E> {
  declare readonly threshold: number;
  declare readonly backoffMs: number;

  constructor(
    threshold: number = endpointDefaults.threshold,
    backoffMs: number = endpointDefaults.backoff,
    options: { now?: Clock } = {},
  ) {
    super(options.now);
    this.threshold = nonNegative("Breaker threshold", threshold);
    this.backoffMs = nonNegative("Breaker backoffMs", backoffMs);
  }

  protected delay(failures: number, lastFailureAt: number, now: Clock): number {
    // Upstream returns last + backoff − now and the sink only waits when it is positive.
    return failures < this.threshold ? 0 : Math.max(0, lastFailureAt + this.backoffMs - now());
  }
}

/**
 * Settings of {@link ExponentialBackoff}, all in milliseconds. A zero or missing `factor` is
 * 1000 and a zero or missing `max` is 20000 (go-events' defaults); `base` defaults to 0.
 *
 * @example
 * ```ts
 * import type { ExponentialBackoffConfig } from "registry-relay";
 * const gentle: ExponentialBackoffConfig = { base: 1000, factor: 1000, max: 20_000 };
 * ```
 */
export interface ExponentialBackoffConfig {
  base?: number;
  factor?: number;
  max?: number;
  /** Uniform random source in [0, 1) (injectable for deterministic tests). */
  random?: () => number;
  /** Clock for `lastFailureAt` in {@link ExponentialBackoff.snapshot} (default `Date.now`). */
  now?: Clock;
}

/**
 * go-events' exponential backoff with full jitter: with `n` consecutive failures the delay is
 * uniform in [0, base + factor·2^(n−1)), that bound capped at `max`; 0 without failures. It never
 * asks to drop; a success resets the count. `snapshot()` and `restore(state)` save and load its
 * {@link StrategyState} (only `failures` affects the delay).
 *
 * @example
 * ```ts
 * import { ExponentialBackoff, RetryingSink } from "registry-relay";
 * const retrying = new RetryingSink(http, new ExponentialBackoff({ base: 1000, factor: 1000, max: 20_000 }));
 * ```
 */
export class ExponentialBackoff<E = Event> extends Streak<E> {
  declare readonly base: number;
  declare readonly factor: number;
  declare readonly max: number;
  readonly #random: () => number;

  constructor(config: ExponentialBackoffConfig = {}) {
    super(config.now);
    const setting = (key: "base" | "factor" | "max") =>
      nonNegative(`ExponentialBackoff ${key}`, config[key] ?? 0);
    const { exponential } = endpointDefaults;
    this.base = setting("base");
    this.factor = setting("factor") || exponential.factor;
    this.max = setting("max") || exponential.max;
    this.#random = config.random ?? Math.random;
  }

  /** The exclusive upper bound of the delay after `failures` consecutive failures. */
  bound(failures: number): number {
    return failures > 0 ? Math.min(this.base + this.factor * 2 ** (failures - 1), this.max) : 0;
  }

  protected delay(failures: number): number {
    return this.#random() * this.bound(failures);
  }
}

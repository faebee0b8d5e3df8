// Retry strategies for RetryingSink, ported from go-events (`Breaker`, `ExponentialBackoff`).
// Both keep state across writes (a success on any write resets it), as upstream does.
import type { Event } from "./schema.ts";

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
  /** Records a successful attempt. */
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

function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${what} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

/**
 * Distribution's circuit breaker: after `threshold` consecutive failures, attempts are spaced
 * `backoffMs` after the last failure. The first `threshold` attempts of a failure streak go back
 * to back; it never asks to drop. `new Breaker(10, 1000)` is distribution's default.
 *
 * @example
 * ```ts
 * import { Breaker, RetryingSink } from "registry-relay";
 * const retrying = new RetryingSink(http, new Breaker(10, 1000));
 * ```
 */
export class Breaker<E = Event> implements RetryStrategy<E> {
  readonly threshold: number;
  readonly backoffMs: number;
  private recent = 0;
  private last = 0;
  private readonly now: Clock;

  constructor(threshold: number, backoffMs: number, options: { now?: Clock } = {}) {
    this.threshold = nonNegative(threshold, "Breaker threshold");
    this.backoffMs = nonNegative(backoffMs, "Breaker backoffMs");
    this.now = options.now ?? Date.now;
  }

  proceed(_events: E[]): number {
    if (this.recent < this.threshold) return 0;
    // Upstream returns last + backoff − now and the sink only waits when it is positive.
    return Math.max(0, this.last + this.backoffMs - this.now());
  }

  failure(_events: E[], _error: unknown): boolean {
    this.recent++;
    this.last = this.now();
    return false;
  }

  success(_events: E[]): void {
    this.recent = 0;
    this.last = 0;
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
}

const defaultFactor = 1000;
const defaultMax = 20_000;

/**
 * go-events' exponential backoff with full jitter: with `n` consecutive failures the delay is
 * uniform in [0, base + factor·2^(n−1)), that bound capped at `max`; 0 without failures. It never
 * asks to drop; a success resets the count.
 *
 * @example
 * ```ts
 * import { ExponentialBackoff, RetryingSink } from "registry-relay";
 * const retrying = new RetryingSink(http, new ExponentialBackoff({ base: 1000, factor: 1000, max: 20_000 }));
 * ```
 */
export class ExponentialBackoff<E = Event> implements RetryStrategy<E> {
  readonly base: number;
  readonly factor: number;
  readonly max: number;
  private failures = 0;
  private readonly random: () => number;

  constructor(config: ExponentialBackoffConfig = {}) {
    this.base = nonNegative(config.base ?? 0, "ExponentialBackoff base");
    this.factor = nonNegative(config.factor ?? 0, "ExponentialBackoff factor") || defaultFactor;
    this.max = nonNegative(config.max ?? 0, "ExponentialBackoff max") || defaultMax;
    this.random = config.random ?? Math.random;
  }

  /** The exclusive upper bound of the delay after `failures` consecutive failures. */
  bound(failures: number): number {
    if (failures <= 0) return 0;
    const grown = this.base + this.factor * 2 ** (failures - 1);
    return Math.min(grown, this.max);
  }

  proceed(_events: E[]): number {
    return this.random() * this.bound(this.failures);
  }

  failure(_events: E[], _error: unknown): boolean {
    this.failures++;
    return false;
  }

  success(_events: E[]): void {
    this.failures = 0;
  }
}

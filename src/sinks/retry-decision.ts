// The decision at the heart of the retry policy (retry-policy.ts): after a failed attempt, retry
// when, or give up why. Apart from it so that RetryingSink, which stores no failure text, does
// not carry the description the durable queue stores (retry-policy.ts adds it).

import { HttpRedirectError, HttpRequestError, HttpStatusError } from "./http-errors.ts";
import { SinkClosedError } from "./sink.ts";

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

/**
 * The retry horizon when `maxAge` is not configured: 3 days (about the span of Svix's retry
 * schedule). No event is retried forever by default; set `maxAge: 0` for that.
 *
 * @example
 * ```ts
 * import { defaultMaxAgeMs } from "registry-relay";
 * const givesUpAt = new Date(firstAttemptAt + defaultMaxAgeMs);
 * ```
 */
export const defaultMaxAgeMs = 3 * 24 * 3_600_000;

/**
 * The limits of one endpoint, in attempts and milliseconds. `maxAttempts` missing or 0: no
 * attempt limit. `maxAge` missing: {@link defaultMaxAgeMs}; 0: no age limit. `maxRetryAfter`
 * missing: {@link maxRetryAfterMs}.
 *
 * @example
 * ```ts
 * import type { RetryLimits } from "registry-relay";
 * const limits: RetryLimits = { maxAttempts: 20, maxAge: 24 * 3_600_000 };
 * const forever: RetryLimits = { maxAttempts: 0, maxAge: 0 };
 * ```
 */
export interface RetryLimits {
  maxAttempts?: number;
  maxAge?: number;
  maxRetryAfter?: number;
}

/** One failed attempt as the policy sees it (`RetryInput` without what only the text needs). */
export interface Attempt extends RetryLimits {
  /** Attempts made so far, including the one that just failed (>= 1). */
  attempts: number;
  /** When the first attempt started, in ms since the epoch. */
  firstAttemptAt: number;
  /** The error of the attempt that just failed. */
  error: unknown;
  /** When the attempt ended, in ms since the epoch. */
  now: number;
  /**
   * Tells the retry strategy about this failure and returns its answer: the wait in ms before
   * the next attempt, or `"drop"`. Called once, and only for a failure that is not final (a
   * final failure leaves the strategy's streak alone).
   */
  backoff(): number | "drop";
  /** Default {@link classifyDeliveryError}. */
  classify?(error: unknown): DeliveryClass;
}

/** 4xx statuses that mean "later may work": timeout, conflict, too early, throttled. */
const retryable4xx = [408, 409, 425, 429];

/**
 * The default classification: final are an {@link HttpStatusError} with a 4xx status except
 * 408, 409, 425 and 429; a permanent redirect (301, 308: the endpoint URL must be updated); an
 * {@link HttpRequestError} (the request could not be built, e.g. {@link HttpEncodeError}: it
 * would fail the same way every time); and {@link SinkClosedError}. Everything else is retried:
 * 5xx, other redirects, transport errors (refused, reset, timeout, and Node's
 * `TypeError: fetch failed`).
 *
 * @example
 * ```ts
 * import { classifyDeliveryError, HttpStatusError } from "registry-relay";
 * classifyDeliveryError(new HttpStatusError(400)); // "final"
 * classifyDeliveryError(new HttpStatusError(429)); // "retry"
 * ```
 */
export function classifyDeliveryError(error: unknown): DeliveryClass {
  return error instanceof SinkClosedError ||
    error instanceof HttpRequestError ||
    (error instanceof HttpRedirectError
      ? error.permanent
      : error instanceof HttpStatusError &&
        error.status >= 400 &&
        error.status < 500 &&
        !retryable4xx.includes(error.status))
    ? "final"
    : "retry";
}

/**
 * The schedule part of `decideRetry`: retry `at` (`wait` ms from `now`), or give up for
 * `reason`. The order and the rules are decideRetry's (see there).
 */
export function decideAttempt(
  input: Attempt,
): { retry: true; at: number; wait: number } | { retry: false; reason: DeadLetterReason } {
  const { error, now, firstAttemptAt, attempts, maxAttempts = 0 } = input;
  const maxAge = input.maxAge ?? defaultMaxAgeMs;
  // A final failure does not reach the strategy; the strategy may still drop a retryable one.
  const backoff =
    (input.classify ?? classifyDeliveryError)(error) === "final" ? "drop" : input.backoff();
  if (backoff === "drop") return { retry: false, reason: "final" };
  if (maxAttempts > 0 && attempts >= maxAttempts) return { retry: false, reason: "max-attempts" };
  const retryAfter = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  const wait = Math.max(
    0,
    backoff,
    Math.min(
      typeof retryAfter === "number" && retryAfter > 0 ? retryAfter : 0,
      input.maxRetryAfter ?? maxRetryAfterMs,
    ),
  );
  const at = now + wait;
  // An attempt that could only start after the age limit is not made.
  if (maxAge > 0 && (now - firstAttemptAt >= maxAge || at - firstAttemptAt > maxAge)) {
    return { retry: false, reason: "max-age" };
  }
  return { retry: true, at, wait };
}

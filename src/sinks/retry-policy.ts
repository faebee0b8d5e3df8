// The one retry policy: what a failed delivery attempt means (retry when, or give up why), and how
// the failure is described for storage. Pure functions over numbers and the error, so that the
// in-memory RetryingSink and the relay's durable queue decide exactly alike.

import { HttpRedirectError, HttpRequestError, HttpStatusError, redactUrl } from "./http.ts";
import { maskValues } from "./http-errors.ts";

export { sensitiveValues } from "./http-errors.ts";

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

/**
 * One failed attempt as {@link decideRetry} sees it.
 *
 * @example
 * ```ts
 * import type { RetryInput } from "registry-relay";
 * const input: RetryInput = {
 *   maxAttempts: 5,
 *   attempts: 1,
 *   firstAttemptAt: startedAt,
 *   error,
 *   now: Date.now(),
 *   backoff: () => (strategy.failure(events, error) ? "drop" : strategy.proceed(events)),
 * };
 * ```
 */
export interface RetryInput extends RetryLimits {
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
  /** Values masked in `message` (configured header values, secrets; see {@link sensitiveValues}). */
  sensitive?: readonly string[];
}

/**
 * What to do after a failed attempt: retry `at` (ms since the epoch; `wait` ms from `now`), or
 * give up for `reason`. `message` is the failure as stored and shown ({@link describeFailure});
 * `status` the receiver's HTTP status, when it answered with one.
 *
 * @example
 * ```ts
 * import type { RetryDecision } from "registry-relay";
 * const show = (d: RetryDecision) => (d.retry ? `retry at ${new Date(d.at).toISOString()}` : `dead (${d.reason})`);
 * ```
 */
export type RetryDecision =
  | { retry: true; at: number; wait: number; status: number | null; message: string }
  | { retry: false; reason: DeadLetterReason; status: number | null; message: string };

/** 4xx statuses that mean "later may work": timeout, conflict, too early, throttled. */
const retryable4xx = new Set([408, 409, 425, 429]);

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
  if (error instanceof SinkClosedError || error instanceof HttpRequestError) return "final";
  if (error instanceof HttpRedirectError) return error.permanent ? "final" : "retry";
  if (error instanceof HttpStatusError) {
    const { status } = error;
    if (status >= 400 && status < 500 && !retryable4xx.has(status)) return "final";
  }
  return "retry";
}

/**
 * Decides what a failed attempt means, in this order: a final classification gives up
 * (`"final"`); otherwise the strategy is told (`backoff`) and may ask to drop (`"final"`); then
 * `maxAttempts` reached (`"max-attempts"`); then `maxAge` passed since the first attempt, or the
 * next attempt would start after it (`"max-age"`). Else the next attempt is due after the larger
 * of the strategy's wait and the receiver's `Retry-After` (capped at `maxRetryAfter`).
 *
 * @example
 * ```ts
 * import { decideRetry } from "registry-relay";
 * const decision = decideRetry({
 *   maxAttempts: 10,
 *   attempts,
 *   firstAttemptAt,
 *   error,
 *   now: Date.now(),
 *   backoff: () => (strategy.failure(events, error) ? "drop" : strategy.proceed(events)),
 * });
 * if (decision.retry) setTimeout(retry, decision.wait);
 * else deadLetter(events, decision.reason, decision.message);
 * ```
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { error, now } = input;
  const status = statusOf(error);
  const message = describeFailure(error, input.sensitive);
  const dead = (reason: DeadLetterReason): RetryDecision => ({
    retry: false,
    reason,
    status,
    message,
  });
  if ((input.classify ?? classifyDeliveryError)(error) === "final") return dead("final");
  const backoff = input.backoff();
  if (backoff === "drop") return dead("final");
  const maxAttempts = input.maxAttempts ?? 0;
  if (maxAttempts > 0 && input.attempts >= maxAttempts) return dead("max-attempts");
  const cap = input.maxRetryAfter ?? maxRetryAfterMs;
  const wait = Math.max(0, backoff, Math.min(retryAfterOf(error), cap));
  const at = now + wait;
  const maxAge = input.maxAge ?? defaultMaxAgeMs;
  // An attempt that could only start after the age limit is not made.
  if (maxAge > 0 && (now - input.firstAttemptAt >= maxAge || at - input.firstAttemptAt > maxAge)) {
    return dead("max-age");
  }
  return { retry: true, at, wait, status, message };
}

/** `Retry-After` carried by an error (as `retryAfterMs`), 0 when absent. */
function retryAfterOf(error: unknown): number {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === "number" && value > 0 ? value : 0;
}

function statusOf(error: unknown): number | null {
  return error instanceof HttpStatusError && error.status > 0 ? error.status : null;
}

/**
 * How many events of a failed write earlier POSTs already delivered (an {@link HttpSink} batch
 * split over several POSTs that failed midway sets `delivered`); at most `batchSize - 1`.
 *
 * @example
 * ```ts
 * import { deliveredBefore } from "registry-relay";
 * const rest = events.slice(deliveredBefore(error, events.length));
 * ```
 */
export function deliveredBefore(error: unknown, batchSize: number): number {
  const delivered = (error as { delivered?: unknown } | null)?.delivered;
  if (typeof delivered !== "number" || !Number.isInteger(delivered) || delivered <= 0) return 0;
  return Math.max(0, Math.min(delivered, batchSize - 1));
}

const maxFailureLength = 512;
/** URLs inside free text (stops at characters a URL in a message is followed by). */
const urlInText = /\bhttps?:\/\/[^\s"'<>{}|\\^`]+/gi;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const controls = /[\u0000-\u001f\u007f]+/g;

/**
 * A failure as stored and shown: the error's message with every URL redacted ({@link redactUrl}),
 * every `sensitive` value of 4+ characters masked as `***`, control characters (CR, LF, NUL…)
 * turned into spaces, and cut to 512 characters. HttpSink's own errors never carry a secret; this
 * also holds for errors of other sinks and runtimes.
 *
 * @example
 * ```ts
 * import { describeFailure } from "registry-relay";
 * describeFailure(new Error("POST https://bot:pw@hooks.example.com/in?token=abc failed"));
 * // "POST https://***@hooks.example.com/in?token=*** failed"
 * ```
 */
export function describeFailure(error: unknown, sensitive: readonly string[] = []): string {
  let text: string;
  try {
    text = error instanceof Error ? error.message : String(error);
  } catch {
    text = "unknown error";
  }
  text = maskValues(text, sensitive);
  text = text.replace(urlInText, (match) => {
    // Punctuation closing a sentence is prose, not URL.
    const url = match.replace(/[.,;:!?)\]]+$/, "");
    return redactUrl(url) + match.slice(url.length);
  });
  text = text.replace(controls, " ");
  return text.length > maxFailureLength ? `${text.slice(0, maxFailureLength - 1)}…` : text;
}

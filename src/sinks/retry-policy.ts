// The one retry policy: what a failed delivery attempt means (retry when, or give up why), and how
// the failure is described for storage. Pure functions over numbers and the error, so that the
// in-memory RetryingSink and the relay's durable queue decide exactly alike. The decision itself
// is retry-decision.ts's (RetryingSink asks it directly: it stores no description).

import { HttpStatusError, maskValues, redactUrl } from "./http-errors.ts";
import {
  type Attempt,
  classifyDeliveryError,
  type DeadLetterReason,
  type DeliveryClass,
  decideAttempt,
  defaultMaxAgeMs,
  maxRetryAfterMs,
  type RetryLimits,
} from "./retry-decision.ts";

export { sensitiveValues } from "./http-errors.ts";
export {
  classifyDeliveryError,
  type DeadLetterReason,
  type DeliveryClass,
  defaultMaxAgeMs,
  maxRetryAfterMs,
  type RetryLimits,
};

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
export interface RetryInput extends Attempt {
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
  const { error } = input;
  return {
    ...decideAttempt(input),
    status: error instanceof HttpStatusError && error.status > 0 ? error.status : null,
    message: describeFailure(error, input.sensitive),
  };
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
  const delivered = (error as { delivered?: number } | null)?.delivered;
  // A `delivered` of 0 or less comes out as 0 too.
  return Number.isInteger(delivered)
    ? Math.max(0, Math.min(delivered as number, batchSize - 1))
    : 0;
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
  text = maskValues(text, sensitive)
    .replace(urlInText, (match) => {
      // Punctuation closing a sentence is prose, not URL.
      const url = match.replace(/[.,;:!?)\]]+$/, "");
      return redactUrl(url) + match.slice(url.length);
    })
    .replace(controls, " ");
  return text.length > maxFailureLength ? `${text.slice(0, maxFailureLength - 1)}…` : text;
}

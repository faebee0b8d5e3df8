// What the EndpointQueue decides around one delivery attempt, as small pure functions over the
// core: which envelope line to send and what a failed attempt means for each row (retry when, or
// dead-letter why). The attempt itself is one core HttpSink write; classification and timing come
// from src/retrying and the core strategy (`strategyFor` + `restore`, see queue.ts).
import type { EndpointConfig } from "../src/config.ts";
import { type EnvelopeMediaType, EventsMediaType, EventsMediaTypeV2 } from "../src/constants.ts";
import { HttpStatusError } from "../src/http.ts";
import type { EndpointMetricsSnapshot } from "../src/metrics.ts";
import { type DeadLetterReason, maxRetryAfterMs } from "../src/retrying.ts";
import type { QueueCounters } from "./queue-schema.ts";

/**
 * The envelope line a batch is sent as: the line it arrived on when that is one of the two
 * envelope media types (so a registry's own bytes go out unchanged), else the endpoint's
 * configured `mediaType` (e.g. for events posted as plain `application/json`).
 *
 * @example
 * ```ts
 * import { outgoingMediaType } from "./queue-delivery.ts";
 * outgoingMediaType("application/json", config); // config.mediaType
 * ```
 */
export function outgoingMediaType(
  received: string,
  config: Pick<EndpointConfig, "mediaType">,
): EnvelopeMediaType {
  if (received === EventsMediaType || received === EventsMediaTypeV2) return received;
  return config.mediaType;
}

/**
 * A row's delivery progress as the retry plan needs it (`attempts` already counts the attempt
 * that just failed).
 *
 * @example
 * ```ts
 * import type { AttemptedRow } from "./queue-delivery.ts";
 * const row: AttemptedRow = { seq: 7, attempts: 1, firstAttemptAt: Date.now() };
 * ```
 */
export interface AttemptedRow {
  seq: number;
  attempts: number;
  firstAttemptAt: number;
}

/**
 * What happens to the rows of a batch whose attempt failed with a retryable error: each either
 * waits until `nextAttemptAt` or is dead-lettered, in RetryingSink's order of checks
 * (`maxAttempts`, then `maxAge` now, then "the next attempt would start after `maxAge`").
 *
 * @example
 * ```ts
 * import { planRetry } from "./queue-delivery.ts";
 * const plan = planRetry(rows, { maxAttempts: 5 }, Date.now(), Date.now() + 1000);
 * plan.dead; // [{ seq, reason: "max-attempts" }, ...]
 * ```
 */
export function planRetry(
  rows: readonly AttemptedRow[],
  limits: { maxAttempts?: number; maxAge?: number },
  now: number,
  nextAttemptAt: number,
): { retry: number[]; dead: { seq: number; reason: DeadLetterReason }[] } {
  const retry: number[] = [];
  const dead: { seq: number; reason: DeadLetterReason }[] = [];
  for (const row of rows) {
    const { maxAttempts, maxAge } = limits;
    if (maxAttempts !== undefined && row.attempts >= maxAttempts) {
      dead.push({ seq: row.seq, reason: "max-attempts" });
    } else if (
      maxAge !== undefined &&
      (now - row.firstAttemptAt >= maxAge || nextAttemptAt - row.firstAttemptAt > maxAge)
    ) {
      dead.push({ seq: row.seq, reason: "max-age" });
    } else {
      retry.push(row.seq);
    }
  }
  return { retry, dead };
}

/**
 * The receiver's `Retry-After` of a failed attempt in ms, capped like RetryingSink's
 * (`maxRetryAfterMs`); 0 when there is none.
 *
 * @example
 * ```ts
 * import { retryAfterOf } from "./queue-delivery.ts";
 * retryAfterOf(new HttpStatusError(429, { retryAfterMs: 2000 })); // 2000
 * ```
 */
export function retryAfterOf(error: unknown): number {
  if (!(error instanceof HttpStatusError) || error.retryAfterMs === undefined) return 0;
  return Math.min(Math.max(0, error.retryAfterMs), maxRetryAfterMs);
}

/**
 * How many events of a failed write earlier POSTs already delivered (HttpSink sets `delivered`
 * when a batch split over several POSTs fails midway).
 *
 * @example
 * ```ts
 * import { deliveredBefore } from "./queue-delivery.ts";
 * deliveredBefore(error, 3); // 0..2
 * ```
 */
export function deliveredBefore(error: unknown, batchSize: number): number {
  const delivered = (error as { delivered?: unknown } | null)?.delivered;
  if (typeof delivered !== "number" || !Number.isInteger(delivered) || delivered <= 0) return 0;
  return Math.min(delivered, batchSize - 1);
}

const maxErrorLength = 512;

/**
 * A failure as stored and shown: the error's message (HttpSink's errors carry a redacted URL
 * and never a header value), with any configured header value or secret masked again and cut to
 * 512 characters.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./queue-delivery.ts";
 * describeFailure(error, ["Bearer s3cr3t"]); // "httpSink{https://hooks.example.com/}: response status 503 ..."
 * ```
 */
export function describeFailure(error: unknown, sensitive: readonly string[]): string {
  let text = error instanceof Error ? `${error.message}` : String(error);
  for (const value of sensitive) {
    if (value.length >= 4) text = text.split(value).join("***");
  }
  return text.length > maxErrorLength ? `${text.slice(0, maxErrorLength - 1)}…` : text;
}

/**
 * Values that must never be stored or shown: every configured header value and signing secret.
 *
 * @example
 * ```ts
 * import { sensitiveValues } from "./queue-delivery.ts";
 * sensitiveValues({ headers: { Authorization: ["Bearer s3cr3t"] } }); // ["Bearer s3cr3t"]
 * ```
 */
export function sensitiveValues(config: Pick<EndpointConfig, "headers" | "secret">): string[] {
  return [...Object.values(config.headers).flat(), ...(config.secret ?? [])];
}

/**
 * Adds one attempt's HttpSink counters to the persisted ones (per attempt, as upstream counts).
 *
 * @example
 * ```ts
 * import { addAttemptCounters } from "./queue-delivery.ts";
 * const counters = addAttemptCounters(meta.counters, metrics.snapshot());
 * ```
 */
export function addAttemptCounters(
  counters: QueueCounters,
  attempt: EndpointMetricsSnapshot,
): QueueCounters {
  const statuses = { ...counters.statuses };
  for (const [key, count] of Object.entries(attempt.statuses)) {
    statuses[key] = (statuses[key] ?? 0) + count;
  }
  return {
    ...counters,
    successes: counters.successes + attempt.successes,
    failures: counters.failures + attempt.failures,
    errors: counters.errors + attempt.errors,
    statuses,
  };
}

/**
 * The status code of the last answered attempt recorded in a counter snapshot (`"200 OK"` → 200).
 *
 * @example
 * ```ts
 * import { answeredStatus } from "./queue-delivery.ts";
 * answeredStatus({ statuses: { "202 Accepted": 1 } }); // 202
 * ```
 */
export function answeredStatus(attempt: Pick<EndpointMetricsSnapshot, "statuses">): number | null {
  const key = Object.keys(attempt.statuses).at(-1);
  return key === undefined ? null : Number.parseInt(key, 10);
}

/**
 * Records one ingest-to-receipt latency in a cumulative histogram over `bounds`.
 *
 * @example
 * ```ts
 * import { observeLatency } from "./queue-delivery.ts";
 * const next = observeLatency({ buckets: [0, 0], sum: 0, count: 0 }, [10, 100], 42);
 * // { buckets: [0, 1], sum: 42, count: 1 }
 * ```
 */
export function observeLatency(
  histogram: { buckets: number[]; sum: number; count: number },
  bounds: readonly number[],
  ms: number,
): { buckets: number[]; sum: number; count: number } {
  const value = Math.max(0, ms);
  return {
    buckets: bounds.map((bound, i) => (histogram.buckets[i] ?? 0) + (value <= bound ? 1 : 0)),
    sum: histogram.sum + value,
    count: histogram.count + 1,
  };
}

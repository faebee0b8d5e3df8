// Small pure helpers of the EndpointQueue around one delivery attempt: which envelope line to
// send, and the counters and latency it adds. What a failed attempt means (retry when, or
// dead-letter why, and the stored error text) is the core's retry policy (src/sinks/retry-policy.ts),
// the same one RetryingSink applies; the attempt itself is one core HttpSink write.
import type { EndpointConfig } from "../../src/endpoint/config.ts";
import type { EndpointMetricsSnapshot } from "../../src/sinks/metrics.ts";
import {
  type EnvelopeMediaType,
  EventsMediaType,
  EventsMediaTypeV2,
} from "../../src/event/constants.ts";
import type { QueueCounters } from "./store.ts";

/**
 * The envelope line a batch is sent as: the line it arrived on when that is one of the two
 * envelope media types (so a registry's own bytes go out unchanged), else the endpoint's
 * configured `mediaType` (e.g. for events posted as plain `application/json`).
 *
 * @example
 * ```ts
 * import { outgoingMediaType } from "./delivery.ts";
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
 * Adds one attempt's HttpSink counters to the persisted ones (per attempt, as upstream counts).
 *
 * @example
 * ```ts
 * import { addAttemptCounters } from "./delivery.ts";
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
 * import { answeredStatus } from "./delivery.ts";
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
 * import { observeLatency } from "./delivery.ts";
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

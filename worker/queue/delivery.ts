// The EndpointQueue's side of one delivery attempt: which rows go out together and on which line,
// what they are handed to HttpSink as, and what a delivered batch leaves in storage (counters,
// latency and its minute of the last hour). What a failed attempt means is failure.ts; the
// attempt itself is one core HttpSink write (`writeEncoded`: each stored text sent as received
// when the line is the same).
import type { EndpointConfig } from "../../src/endpoint/config.ts";
import {
  type EnvelopeMediaType,
  EventsMediaType,
  EventsMediaTypeV2,
} from "../../src/event/constants.ts";
import type { EncodedEvent } from "../../src/event/envelope.ts";
import type { EndpointMetricsSnapshot } from "../../src/sinks/metrics.ts";
import type { QueueCounters } from "../admin-api.ts";
import { countActivity } from "./activity.ts";
import type { EventRow, QueueMeta } from "./store.ts";

/**
 * Upper bounds (ms) of the ingest-to-receipt latency histogram in `QueueStatus`: the time from
 * `enqueue` committing an event to a 2xx (or 3xx) from the endpoint.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
];

/**
 * The envelope line a batch is sent as: the line it arrived on when that is one of the two
 * envelope media types (so a registry's own bytes go out unchanged), else the endpoint's
 * configured `mediaType` (e.g. for events posted as plain `application/json`, re-encoded).
 */
export function outgoingMediaType(
  received: string,
  config: Pick<EndpointConfig, "mediaType">,
): EnvelopeMediaType {
  if (received === EventsMediaType || received === EventsMediaTypeV2) return received;
  return config.mediaType;
}

/** The head of the pending FIFO: up to `maxBatch` rows of the head's media type, in order. */
export function headBatch(sql: SqlStorage, maxBatch: number): EventRow[] {
  const batch = sql
    .exec<EventRow>("SELECT * FROM events WHERE state = 'pending' ORDER BY seq LIMIT ?", maxBatch)
    .toArray();
  const end = batch.findIndex((row) => row.media_type !== batch[0]?.media_type);
  if (end > 0) batch.length = end;
  return batch;
}

/**
 * A row as HttpSink takes it. A raw row's text carries the line it arrived on, so it is sent as
 * it is on that line; an older row's JSON value has none and is encoded on the outgoing line.
 */
export function encodedOf(row: EventRow): EncodedEvent {
  return row.raw === 1
    ? { id: row.id, text: row.body, mediaType: row.media_type }
    : { id: row.id, text: row.body };
}

/**
 * Adds one attempt's HttpSink counters to the persisted ones (per attempt, as upstream counts).
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

/** The status code of the last answered attempt recorded in a counter snapshot (`"200 OK"` → 200). */
function answeredStatus(attempt: Pick<EndpointMetricsSnapshot, "statuses">): number | null {
  const key = Object.keys(attempt.statuses).at(-1);
  return key === undefined ? null : Number.parseInt(key, 10);
}

/** Records one ingest-to-receipt latency in a cumulative histogram over `bounds`. */
function observeLatency(
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

/**
 * Deletes delivered rows and records their latency and their minute (at `done`) in `meta`. Run it
 * inside a transaction.
 */
export function recordDelivered(
  sql: SqlStorage,
  meta: QueueMeta,
  rows: readonly EventRow[],
  done: number,
): void {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return;
  // The rows are the pending FIFO's head, in seq order: the range holds no other pending row.
  sql.exec(
    "DELETE FROM events WHERE state = 'pending' AND seq BETWEEN ? AND ?",
    first.seq,
    last.seq,
  );
  for (const row of rows) {
    meta.latency = observeLatency(meta.latency, LATENCY_BUCKETS_MS, done - row.accepted_at);
  }
  meta.activity = countActivity(meta.activity, done, { delivered: rows.length });
}

/**
 * Counts an attempt at `batch` and leases it until `leaseUntil` (its next attempt time), before
 * the POST. Run it inside a transaction.
 */
export function leaseBatch(
  sql: SqlStorage,
  batch: readonly EventRow[],
  now: number,
  leaseUntil: number,
): void {
  sql.exec(
    `UPDATE events SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ?),
     next_attempt_at = ? WHERE state = 'pending' AND seq BETWEEN ? AND ?`,
    now,
    leaseUntil,
    batch[0]?.seq,
    batch.at(-1)?.seq,
  );
}

/** Records a delivered batch: rows gone, counters, latency, the failure streak reset. */
export function recordSuccess(
  sql: SqlStorage,
  meta: QueueMeta,
  batch: readonly EventRow[],
  attempt: EndpointMetricsSnapshot,
  done: number,
): void {
  recordDelivered(sql, meta, batch, done);
  meta.counters = addAttemptCounters(meta.counters, attempt);
  meta.failures = 0;
  meta.lastFailureAt = 0;
  meta.holdUntil = 0;
  meta.lastStatus = answeredStatus(attempt);
  meta.lastError = null;
}

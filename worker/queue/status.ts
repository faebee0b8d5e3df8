// What `EndpointQueue.status` reports: the queue's identity, pause, backlog, last outcome,
// counters, latency histogram and last hour, read from its rows and meta.
import type {
  ActivityCounts,
  LatencyCounts,
  PartitionSnapshot,
  QueueCounters,
} from "../admin-api.ts";
import { activityView } from "./activity.ts";
import type { QueueMeta } from "./store.ts";

/**
 * The state of one queue: identity, pause, backlog, last outcome, counters (per attempt, as
 * distribution counts them) and the ingest-to-receipt latency histogram (cumulative `buckets`
 * for `LATENCY_BUCKETS_MS`, delivery.ts) and the last hour per minute as of `now` (activity.ts).
 * `endpoint` is `""` and `partition` `-1` until the first enqueue. No URL, header or secret is
 * ever part of it. The fields it shares with the admin API's per-partition view are that view's
 * ({@link PartitionSnapshot}).
 */
export interface QueueStatus extends PartitionSnapshot {
  endpoint: string;
  pauseReason?: string;
  metrics: QueueCounters;
  latency: LatencyCounts;
  activity: ActivityCounts;
}

/** The status of a queue with this `meta`, at `now`; `dueAt` is when its head is next due. */
export function readStatus(
  sql: SqlStorage,
  meta: QueueMeta,
  now: number,
  dueAt: number | null,
): QueueStatus {
  const pending = sql
    .exec<{ n: number; oldest: number | null }>(
      "SELECT COUNT(*) AS n, MIN(accepted_at) AS oldest FROM events WHERE state = 'pending'",
    )
    .one();
  const dead = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE state = 'dead'")
    .one();
  const { counters, latency } = meta;
  return {
    endpoint: meta.endpoint ?? "",
    partition: meta.partition ?? -1,
    paused: meta.paused,
    ...(meta.pauseReason !== null && { pauseReason: meta.pauseReason }),
    depth: pending.n,
    oldestPendingAgeMs: pending.oldest === null ? null : Math.max(0, now - pending.oldest),
    deadLetters: dead.n,
    lastStatus: meta.lastStatus,
    lastError: meta.lastError,
    nextAttemptAt: meta.paused ? null : dueAt,
    metrics: { ...counters, statuses: { ...counters.statuses } },
    latency: { buckets: [...latency.buckets], sum: latency.sum, count: latency.count },
    activity: activityView(meta.activity, now),
  };
}

// One endpoint's state seen through all of its partitions: what the admin API and /metrics show.
import type { EndpointSnapshot } from "../admin-api.ts";
import type { RelayEndpoint } from "../env.ts";
import { mergeActivity } from "./activity.ts";
import type { Env } from "./bindings.ts";
import { LATENCY_BUCKETS_MS, type QueueStatus } from "./endpoint-queue.ts";
import { queueName } from "./partition.ts";

/** The stub of the Durable Object holding one partition of an endpoint's queue. */
export function queueStub(env: Env, endpoint: string, partition: number) {
  return env.ENDPOINT_QUEUE.get(env.ENDPOINT_QUEUE.idFromName(queueName(endpoint, partition)));
}

/** The partition numbers of an endpoint, `0 .. partitions-1`: every admin action visits each. */
export function partitionsOf(endpoint: Pick<RelayEndpoint, "partitions">): number[] {
  return Array.from({ length: endpoint.partitions }, (_, index) => index);
}

const maxOf = (values: (number | null)[]): number | null =>
  values.reduce<number | null>(
    (max, v) => (v === null ? max : max === null ? v : Math.max(max, v)),
    null,
  );
const minOf = (values: (number | null)[]): number | null =>
  values.reduce<number | null>(
    (min, v) => (v === null ? min : min === null ? v : Math.min(min, v)),
    null,
  );

/**
 * Sums the statuses of an endpoint's partitions (in partition order) into one snapshot. The
 * endpoint counts as paused when any partition is; last status and error come from the first
 * partition that has one (each partition's own are in `partitions`). The last hour is placed on
 * the latest clock a partition answered with.
 */
function aggregateStatuses(
  endpoint: { name: string; disabled?: boolean },
  statuses: readonly QueueStatus[],
): EndpointSnapshot {
  const statusCounts: Record<string, number> = {};
  const buckets = LATENCY_BUCKETS_MS.map(() => 0);
  let sum = 0;
  let count = 0;
  const metrics = { events: 0, successes: 0, failures: 0, errors: 0, deadLettered: 0 };
  for (const status of statuses) {
    metrics.events += status.metrics.events;
    metrics.successes += status.metrics.successes;
    metrics.failures += status.metrics.failures;
    metrics.errors += status.metrics.errors;
    metrics.deadLettered += status.metrics.deadLettered;
    for (const [code, n] of Object.entries(status.metrics.statuses)) {
      statusCounts[code] = (statusCounts[code] ?? 0) + n;
    }
    status.latency.buckets.forEach((n, index) => {
      if (index < buckets.length) buckets[index] = (buckets[index] ?? 0) + n;
    });
    sum += status.latency.sum;
    count += status.latency.count;
  }
  const depth = statuses.reduce((total, s) => total + s.depth, 0);
  const nows = statuses.map((s) => s.activity.now);
  const paused = statuses.find((s) => s.paused);
  const failing =
    statuses.find((s) => s.lastError !== null) ?? statuses.find((s) => s.lastStatus !== null);
  return {
    name: endpoint.name,
    state: endpoint.disabled ? "disabled" : paused ? "paused" : "active",
    pauseReason: paused?.pauseReason ?? null,
    depth,
    oldestPendingAgeMs: maxOf(statuses.map((s) => s.oldestPendingAgeMs)),
    deadLetters: statuses.reduce((total, s) => total + s.deadLetters, 0),
    lastStatus: failing?.lastStatus ?? null,
    lastError: failing?.lastError ?? null,
    nextAttemptAt: minOf(statuses.map((s) => s.nextAttemptAt)),
    metrics: { pending: depth, ...metrics, statuses: statusCounts },
    latency: { boundsMs: [...LATENCY_BUCKETS_MS], buckets, sum, count },
    activity: mergeActivity(
      statuses.map((s) => s.activity),
      nows.length > 0 ? Math.max(...nows) : Date.now(),
    ),
    partitions: statuses.map((s, index) => ({
      partition: index,
      paused: s.paused,
      depth: s.depth,
      deadLetters: s.deadLetters,
      oldestPendingAgeMs: s.oldestPendingAgeMs,
      lastStatus: s.lastStatus,
      lastError: s.lastError,
      nextAttemptAt: s.nextAttemptAt,
    })),
  };
}

/** Asks every partition of an endpoint for its status (in parallel) and sums the answers. */
export async function snapshotOf(
  env: Env,
  endpoint: Pick<RelayEndpoint, "name" | "disabled" | "partitions">,
): Promise<EndpointSnapshot> {
  const statuses = await Promise.all(
    partitionsOf(endpoint).map((partition) => queueStub(env, endpoint.name, partition).status()),
  );
  return aggregateStatuses(endpoint, statuses);
}

// Which Durable Object holds an event: one queue per (endpoint, partition). Partitioning by
// repository keeps per-repository order while different repositories deliver in parallel.

const encoder = new TextEncoder();
const fnvOffsetBasis = 0x811c9dc5;
const fnvPrime = 0x01000193;

/**
 * The partition of a repository among `partitions` queues: FNV-1a (32-bit) of its UTF-8 bytes,
 * modulo `partitions`. Stable across deployments and runtimes, so a repository always lands in
 * the same queue and keeps its order.
 *
 * @example
 * ```ts
 * import { partitionOf } from "./partition.ts";
 * partitionOf("library/alpine", 4); // always the same number in 0..3
 * partitionOf("library/alpine", 1); // 0
 * ```
 */
export function partitionOf(repository: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  if (partitions === 1) return 0;
  let hash = fnvOffsetBasis;
  for (const byte of encoder.encode(repository)) {
    hash ^= byte;
    hash = Math.imul(hash, fnvPrime) >>> 0;
  }
  return hash % partitions;
}

/**
 * The name of the Durable Object that holds one partition of an endpoint's queue; the object's
 * id is `env.ENDPOINT_QUEUE.idFromName(queueName(endpoint, partition))`.
 *
 * @example
 * ```ts
 * import { queueName } from "./partition.ts";
 * queueName("audit", 0); // "audit#0"
 * ```
 */
export function queueName(endpoint: string, partition: number): string {
  return `${endpoint}#${partition}`;
}

// Which Durable Object holds an event: one queue per (endpoint, partition). Partitioning by
// repository keeps per-repository order while different repositories deliver in parallel. The
// hash is the core's (the in-memory Endpoint routes the same repository to the same partition).
import { partitionOf as corePartitionOf } from "../../src/endpoint/endpoint.ts";

/**
 * The partition of a repository among `partitions` queues: the core's `partitionOf` (FNV-1a
 * 32-bit of its UTF-8 bytes, modulo `partitions`), stable across deployments and runtimes, so a
 * repository always lands in the same queue and keeps its order. Unlike the core it rejects a
 * `partitions` that is not a positive integer, since a wrong count here would name a Durable
 * Object no reader ever looks at.
 *
 * @throws RangeError unless `partitions` is an integer >= 1.
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
  return corePartitionOf(repository, partitions);
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

// Which Durable Object holds an event: one queue per (endpoint, partition). Events go to the
// partition of their repository (the core's `partitionOf`), which keeps per-repository order
// while different repositories deliver in parallel.

/** The name of one partition's Durable Object: its id is `idFromName(queueName(…))`. */
export function queueName(endpoint: string, partition: number): string {
  return `${endpoint}#${partition}`;
}

// Every default of an endpoint, written once (durations in ms): parseEndpointConfig, the strategies
// and the queue read them here, so the code and the error messages cannot disagree. And the one
// check the sinks make of a number that overrides one.
import { EventsMediaType } from "../event/constants.ts";

export const endpointDefaults = {
  // distribution's EndpointConfig.defaults(): a missing or zero value means these.
  timeout: 1000,
  threshold: 10,
  backoff: 1000,
  // go-events' DefaultExponentialBackoffConfig.
  exponential: { base: 1000, factor: 1000, max: 20_000 },
  // Ours, chosen to behave as distribution: one event per POST, one FIFO, v1 envelopes.
  maxBatch: 1,
  partitions: 1,
  mediaType: EventsMediaType,
  overflow: "reject",
} as const;

/**
 * `value` when it is `kind` (an integer; a finite number; any number, Infinity too) and at least
 * `min`; else a RangeError naming `what`.
 */
export function atLeast(
  what: string,
  value: number,
  min: number,
  kind: "an integer" | "a finite number" | "a number",
): number {
  if (
    value >= min &&
    (kind === "an integer"
      ? Number.isInteger(value)
      : kind === "a number" || Number.isFinite(value))
  ) {
    return value;
  }
  throw new RangeError(`${what} must be ${kind} >= ${min}, got ${value}`);
}

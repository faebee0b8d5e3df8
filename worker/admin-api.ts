// The admin API's bodies, written once: worker/routes/admin.ts answers with them (`satisfies`) and
// the browser console (examples/browser-admin/src/api.ts) reads them, so changing a response is a
// type error in the console. Types only, importing nothing from the Workers runtime, so that the
// console's browser tsconfig compiles this file as it is.
import type { EndpointConfig } from "../src/endpoint/config.ts";
import type { ErrorBody } from "../src/hono/errors.ts";
import type { MatchRules } from "../src/sinks/match.ts";

export type { ErrorBody };

/**
 * Delivery counters in distribution's shape (`successes`, `failures`, `errors` and `statuses`
 * such as `"200 OK"`, per attempt) plus accepted `events` and `deadLettered` events. The queue
 * stores them, the admin API sums them over partitions, `/metrics` renders them.
 */
export interface QueueCounters {
  events: number;
  successes: number;
  failures: number;
  errors: number;
  deadLettered: number;
  statuses: Record<string, number>;
}

/** A cumulative latency histogram (`buckets[i]` counts values `<=` the i-th bound), in ms. */
export interface LatencyCounts {
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Deliveries and failures of the last hour, one slot per minute, oldest first: slot `i` counts
 * what happened from `start + i * minuteMs` on, and the last slot is the minute that holds `now`
 * (so far). `now` is the relay's clock when it was read, so a client places the slots without
 * trusting its own. `delivered` and `deadLettered` count events, `failed` failed delivery
 * attempts (one per failed attempt at a batch, however many events it held).
 */
export interface ActivityCounts {
  now: number;
  start: number;
  minuteMs: number;
  delivered: number[];
  failed: number[];
  deadLettered: number[];
}

/** One partition's part of an {@link EndpointSnapshot}. */
export interface PartitionSnapshot {
  partition: number;
  paused: boolean;
  depth: number;
  deadLetters: number;
  oldestPendingAgeMs: number | null;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
}

/** An endpoint's queue state and counters, summed over its partitions (also what /metrics reads). */
export interface EndpointSnapshot {
  name: string;
  state: "active" | "paused" | "disabled";
  pauseReason: string | null;
  depth: number;
  oldestPendingAgeMs: number | null;
  deadLetters: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  /** `pending` is `depth`, under distribution's name. */
  metrics: QueueCounters & { pending: number };
  /** Ingest accepted → 2xx receipt, with the bucket bounds of `buckets`. */
  latency: LatencyCounts & { boundsMs: number[] };
  /** The last hour per minute, summed over the partitions. */
  activity: ActivityCounts;
  partitions: PartitionSnapshot[];
}

/**
 * An endpoint's configuration as the admin API shows it: header names without values, whether it
 * signs (never the secret), the URL with credentials and query values masked, the limits in
 * effect (`null`: unlimited), its output `format` and its `match` rules (`null`: every event).
 */
export interface EndpointConfigView {
  name: string;
  url: string;
  disabled: boolean;
  headers: string[];
  signed: boolean;
  timeout: number;
  threshold: number;
  backoff: number;
  strategy: EndpointConfig["strategy"];
  ignore: { mediatypes: string[]; actions: string[] };
  maxAttempts: number | null;
  maxAge: number | null;
  maxBatch: number;
  partitions: number;
  mediaType: EndpointConfig["mediaType"];
  /** What it receives: `distribution` envelopes, `cloudevents` or `cdevents`. */
  format: EndpointConfig["format"];
  /** The glob lists of its `match` rules that are set; `null`: it gets every event. */
  match: MatchRules | null;
}

/** `GET /v1/endpoints/:name`, and each item of `GET /v1/endpoints`. */
export interface EndpointView extends EndpointSnapshot {
  config: EndpointConfigView;
}

/** `GET /v1/endpoints`. */
export interface EndpointList {
  endpoints: EndpointView[];
}

/**
 * One queued or dead event: no body, no header, nothing secret. `tag`, `digest` and `mediaType`
 * are the event target's, each absent when the event has none (a blob has no tag).
 */
export interface QueueItem {
  id: string;
  seq: number;
  action: string;
  repository: string;
  tag?: string;
  digest?: string;
  mediaType?: string;
  acceptedAt: number;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deadAt?: number;
  reason?: string;
}

/** Which events a page lists. */
export type QueueState = "pending" | "dead";

/** `GET /v1/endpoints/:name/events`: items across partitions; `nextCursor` is null on the last page. */
export interface EventPage {
  endpoint: string;
  state: QueueState;
  items: (QueueItem & { partition: number })[];
  nextCursor: string | null;
}

/** `POST /v1/endpoints/:name/dead-letters/replay`. */
export interface ReplayResult {
  endpoint: string;
  replayed: number;
}

/** `DELETE /v1/endpoints/:name/dead-letters`. */
export interface PurgeResult {
  endpoint: string;
  purged: number;
}

/** `POST /v1/endpoints/:name/pause` and `.../resume`. */
export interface StateResult {
  endpoint: string;
  state: EndpointSnapshot["state"];
}

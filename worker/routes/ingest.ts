// POST /v1/events: receive (auth, limits, parse) with registry-relay/hono, filter per endpoint
// with the core's IgnoredSink, then commit into every endpoint partition's Durable Object. The
// registry gets 202 only after every enqueue has committed; otherwise 503 so that it retries.
import type { MiddlewareHandler } from "hono";
import type { EndpointConfig } from "../../src/endpoint/config.ts";
import type { Event } from "../../src/event/schema.ts";
import { errorResponse } from "../../src/hono/errors.ts";
import { receiveEnvelopes } from "../../src/hono/index.ts";
import { IgnoredSink } from "../../src/sinks/ignored.ts";
import { type Env, loadRelayConfig, type RelayConfig } from "../env.ts";
import { partitionOf } from "../queue/partition.ts";
import { queueStub } from "../queue/snapshot.ts";

/**
 * The Hono environment of the relay app.
 *
 * @example
 * ```ts
 * import type { AppEnv } from "./ingest.ts";
 * const app = new Hono<AppEnv>();
 * ```
 */
export type AppEnv = { Bindings: Env };

/**
 * What one endpoint did with an accepted envelope.
 *
 * @example
 * ```ts
 * import type { EndpointOutcome } from "./ingest.ts";
 * const fresh = (o: EndpointOutcome) => o.queued; // duplicates and ignored events are not queued
 * ```
 */
export interface EndpointOutcome {
  name: string;
  queued: number;
  ignored: number;
  duplicates: number;
}

/** Seconds a registry is asked to wait before resending after a 503. */
const retryAfterSeconds = "2";

/**
 * The events an endpoint keeps after its ignore rules, decided by the core's `IgnoredSink`
 * (the same filter the in-memory `Endpoint` uses), in their original order.
 *
 * @example
 * ```ts
 * import { survivingEvents } from "./ingest.ts";
 * const kept = await survivingEvents({ ignore: { mediatypes: [], actions: ["pull"] } }, events);
 * ```
 */
export async function survivingEvents(
  endpoint: Pick<EndpointConfig, "ignore">,
  events: readonly Event[],
): Promise<Event[]> {
  const kept: Event[] = [];
  const collector = {
    write: async (...survivors: Event[]) => {
      kept.push(...survivors);
    },
    close: async () => {},
  };
  const rules = { mediaTypes: endpoint.ignore.mediatypes, actions: endpoint.ignore.actions };
  await new IgnoredSink(collector, rules).write(...events);
  return kept;
}

/**
 * Splits events by partition (repository hash), keeping their order inside each partition.
 *
 * @example
 * ```ts
 * import { groupByPartition } from "./ingest.ts";
 * for (const [partition, events] of groupByPartition(kept, 4)) console.log(partition, events.length);
 * ```
 */
export function groupByPartition(
  events: readonly Event[],
  partitions: number,
): Map<number, Event[]> {
  const groups = new Map<number, Event[]>();
  for (const event of events) {
    const partition = partitionOf(event.target.repository, partitions);
    const group = groups.get(partition);
    if (group) group.push(event);
    else groups.set(partition, [event]);
  }
  return groups;
}

/**
 * Commits an envelope's events into every enabled endpoint's queue(s), all in parallel, and
 * answers 202 `{accepted, endpoints:[{name, queued, ignored, duplicates}]}` once every enqueue
 * has committed, or 503 JSON with `Retry-After` when any failed (those that committed will
 * count the resent events as duplicates).
 *
 * @example
 * ```ts
 * import { fanOut } from "./ingest.ts";
 * const response = await fanOut(env, loadRelayConfig(env), envelope.events, mediaType);
 * ```
 */
export async function fanOut(
  env: Env,
  config: RelayConfig,
  events: readonly Event[],
  mediaType: string,
): Promise<Response> {
  const outcomes: EndpointOutcome[] = [];
  const commits: Promise<void>[] = [];
  const failures: { endpoint: string; partition: number; error: unknown }[] = [];
  for (const endpoint of config.endpoints) {
    if (endpoint.disabled) continue;
    const kept = await survivingEvents(endpoint, events);
    const outcome: EndpointOutcome = {
      name: endpoint.name,
      queued: 0,
      ignored: events.length - kept.length,
      duplicates: 0,
    };
    outcomes.push(outcome);
    for (const [partition, group] of groupByPartition(kept, endpoint.partitions)) {
      const stub = queueStub(env, endpoint.name, partition);
      commits.push(
        stub.enqueue({ endpoint: endpoint.name, partition, mediaType, events: group }).then(
          ({ queued, duplicates }) => {
            outcome.queued += queued;
            outcome.duplicates += duplicates;
          },
          (error: unknown) => {
            failures.push({ endpoint: endpoint.name, partition, error });
          },
        ),
      );
    }
  }
  await Promise.all(commits);
  if (failures.length > 0) {
    for (const { endpoint, partition, error } of failures) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      console.error(`ingest: enqueue into ${endpoint} partition ${partition} failed: ${reason}`);
    }
    const names = [...new Set(failures.map((failure) => failure.endpoint))].join(", ");
    return errorResponse(
      503,
      "enqueue_failed",
      `the events could not be committed for endpoint(s) ${names}; resend the envelope`,
      { headers: { "retry-after": retryAfterSeconds } },
    );
  }
  return Response.json({ accepted: events.length, endpoints: outcomes }, { status: 202 });
}

const receivers = new WeakMap<RelayConfig, MiddlewareHandler<AppEnv>>();

/** The most of a refused streamed body that ingest reads and discards (see `drainBytes`). */
const maxDrainBytes = 16 * 1024 * 1024;

/** Where each enabled endpoint delivers (origin and path), by its index in RELAY_ENDPOINTS. */
const targets = new WeakMap<RelayConfig, { index: number; origin: string; path: string }[]>();

/**
 * The RELAY_ENDPOINTS index of the first enabled endpoint that delivers to this relay's own
 * `/v1/events` (same origin as the request, path under `/v1/events`), if any: every event would
 * come back as a new ingest, forever.
 *
 * @example
 * ```ts
 * import { selfLoopIndex } from "./ingest.ts";
 * const index = selfLoopIndex(loadRelayConfig(env), request.url); // e.g. 1, or undefined
 * ```
 */
export function selfLoopIndex(config: RelayConfig, requestUrl: string): number | undefined {
  let list = targets.get(config);
  if (!list) {
    list = [];
    for (const [index, endpoint] of config.endpoints.entries()) {
      if (endpoint.disabled) continue;
      let url: URL;
      try {
        url = new URL(endpoint.url);
      } catch {
        continue; // the config loader has already checked every URL
      }
      list.push({ index, origin: url.origin, path: url.pathname });
    }
    targets.set(config, list);
  }
  const origin = new URL(requestUrl).origin;
  return list.find((target) => target.origin === origin && target.path.startsWith("/v1/events"))
    ?.index;
}

/**
 * The `POST /v1/events` handler: refuses a config whose endpoint targets this very route
 * ({@link selfLoopIndex}, 500 `invalid_config`), then `receiveEnvelopes` configured from the
 * bindings (tokens, anonymous, body limit), then {@link fanOut}.
 *
 * @example
 * ```ts
 * import { ingest } from "./ingest.ts";
 * app.post("/v1/events", ingest);
 * ```
 */
export const ingest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = loadRelayConfig(c.env);
  // A loop is a config error like those the app answers before routing; it is checked here
  // because only the request says which origin this relay is reached at.
  const loop = selfLoopIndex(config, c.req.url);
  if (loop !== undefined) {
    const key = `RELAY_ENDPOINTS[${loop}].url`;
    const reason = "targets this relay's own /v1/events: a loop";
    console.error(`config: ${key}: ${reason}`);
    return errorResponse(500, "invalid_config", `the relay is misconfigured: ${key}: ${reason}`, {
      issues: [{ path: key, message: reason }],
    });
  }
  let receiver = receivers.get(config);
  if (!receiver) {
    receiver = receiveEnvelopes<AppEnv>({
      tokens: config.ingestTokens,
      allowAnonymous: config.allowAnonymous,
      maxBodyBytes: config.maxBodyBytes,
      // Under wrangler dev a half-read body breaks the connection's next request: drain it.
      drainBytes: Math.min(8 * config.maxBodyBytes, maxDrainBytes),
      onEnvelope: (envelope, { mediaType, c }) => fanOut(c.env, config, envelope.events, mediaType),
    });
    receivers.set(config, receiver);
  }
  return receiver(c, next);
};

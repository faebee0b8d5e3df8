// POST /v1/events: receive (auth, limits, parse) with registry-relay/hono, filter per endpoint
// with the core's ignore predicate (the one IgnoredSink applies), then commit into every endpoint
// partition's Durable Object. The registry gets 202 only after every enqueue has committed;
// otherwise 503 so that it retries.
import type { MiddlewareHandler } from "hono";
import { partitionOf } from "../../src/endpoint/endpoint.ts";
import { eventTexts } from "../../src/event/envelope.ts";
import type { Envelope, Event } from "../../src/event/schema.ts";
import { errorResponse } from "../../src/hono/errors.ts";
import { receiveEnvelopes } from "../../src/hono/index.ts";
import { ignoredBy } from "../../src/sinks/ignored.ts";
import type { RelayConfig, RelayEndpoint } from "../env.ts";
import type { Env } from "../queue/bindings.ts";
import type { QueuedEvent } from "../queue/enqueue.ts";
import { queueStub } from "../queue/snapshot.ts";

/**
 * The Hono environment of the relay app: its bindings, and the config the app's first middleware
 * loads once per request (parsed once per isolate) for every handler: `c.get("config")`.
 */
export type AppEnv = { Bindings: Env; Variables: { config: RelayConfig } };

/** What one endpoint did with an accepted envelope (the 202 body lists one per endpoint). */
interface EndpointOutcome {
  name: string;
  queued: number;
  ignored: number;
  duplicates: number;
}

/** Seconds a registry is asked to wait before resending after a 503. */
const retryAfterSeconds = "2";

/**
 * The events an endpoint keeps after its ignore rules, in their original order: the core's
 * `ignoredBy`, the predicate the in-memory `Endpoint`'s IgnoredSink applies.
 */
function survivingEvents(endpoint: Pick<RelayEndpoint, "ignore">, events: readonly Event[]) {
  const { mediatypes, actions } = endpoint.ignore;
  const ignored = ignoredBy({ mediaTypes: mediatypes, actions });
  return events.filter((event) => !ignored(event));
}

/** Splits events by partition (repository hash), keeping their order inside each partition. */
function groupByPartition(events: readonly Event[], partitions: number): Map<number, Event[]> {
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
 * count the resent events as duplicates). Each event goes to its queues as its JSON text cut
 * from `raw`, the body `envelope` was parsed from (`eventTexts`), with its keys as columns: the
 * queue stores and delivers the registry's own bytes, and validates nothing again.
 */
async function fanOut(
  env: Env,
  config: RelayConfig,
  envelope: Envelope,
  raw: Uint8Array,
  mediaType: string,
): Promise<Response> {
  const { events } = envelope;
  const texts = eventTexts(raw, envelope, { mediaType });
  const queued = new Map<Event, QueuedEvent>();
  events.forEach((event, i) => {
    const { id, action, target } = event;
    queued.set(event, { id, action, repository: target.repository, text: texts[i] as string });
  });
  const outcomes: EndpointOutcome[] = [];
  const commits: Promise<void>[] = [];
  const failures: { endpoint: string; partition: number; error: unknown }[] = [];
  for (const endpoint of config.endpoints) {
    if (endpoint.disabled) continue;
    const kept = survivingEvents(endpoint, events);
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
        stub
          .enqueue({
            endpoint: endpoint.name,
            partition,
            mediaType,
            events: group.map((event) => queued.get(event) as QueuedEvent),
          })
          .then(
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
 */
function selfLoopIndex(config: RelayConfig, requestUrl: string): number | undefined {
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
 */
export const ingest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
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
      onEnvelope: (envelope, { mediaType, raw, c }) =>
        fanOut(c.env, config, envelope, raw, mediaType),
    });
    receivers.set(config, receiver);
  }
  return receiver(c, next);
};

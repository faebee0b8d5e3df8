// POST /v1/events and /v1/events/{format}: receive (auth, limits, parse or normalize) with
// registry-relay/hono, route per endpoint with the core's routing rule (the one the in-memory
// Endpoint applies: output format, ignore, match), then commit into every endpoint partition's
// Durable Object. The registry gets 202 only after every enqueue has committed; otherwise 503 so
// that it retries.
import type { MiddlewareHandler } from "hono";
import { partitionOf } from "../../src/endpoint/endpoint.ts";
import { routesTo } from "../../src/endpoint/routing.ts";
import { EnvelopeError, eventText, eventTexts } from "../../src/event/envelope.ts";
import type { Envelope, Event } from "../../src/event/schema.ts";
import { INPUT_FORMATS, type InputFormat, isInputFormat } from "../../src/formats/model.ts";
import { outputFormats } from "../../src/formats/output.ts";
import { errorResponse, refusal } from "../../src/hono/errors.ts";
import { receiveEnvelopes } from "../../src/hono/index.ts";
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

const routes = new WeakMap<RelayEndpoint, (event: Event) => boolean>();
/** An endpoint's routing (`routesTo`), its globs compiled once per config, not per request. */
function routeOf(endpoint: RelayEndpoint): (event: Event) => boolean {
  let route = routes.get(endpoint);
  if (!route) {
    route = routesTo({ ...endpoint, format: outputFormats[endpoint.format] });
    routes.set(endpoint, route);
  }
  return route;
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

/** What ingest received: the events, and how the body they came in was written. */
interface Received {
  envelope: Envelope;
  /** Events of another registry with no distribution action (`unsupported` in the answer). */
  unsupported: Event[];
  raw: Uint8Array;
  mediaType: string;
  format: InputFormat;
}

/**
 * Commits the received events into every enabled endpoint's queue(s) the endpoint routes them to
 * (`routesTo`), all in parallel, and answers 202 `{accepted, unsupported?, endpoints:[{name,
 * queued, ignored, duplicates}]}` once every enqueue has committed, or 503 JSON with
 * `Retry-After` when any failed (those that committed will count the resent events as
 * duplicates). A distribution event goes to its queues as its JSON text cut from `raw`, the body
 * it was parsed from (`eventTexts`): the queue stores and delivers the registry's own bytes. An
 * event normalized from another format goes as its encoding on the endpoint's `mediaType`
 * (`eventText`). Either way it is sent as stored, its keys are columns, and the queue validates
 * nothing again.
 */
async function fanOut(env: Env, config: RelayConfig, received: Received): Promise<Response> {
  const { envelope, unsupported, raw, format } = received;
  const { events } = envelope;
  const all = unsupported.length > 0 ? [...events, ...unsupported] : events;
  // Each event's stored text, by the envelope line it is written on, so that every queue sends
  // it as it is: a distribution event's own bytes, on the line they came in; a normalized event
  // encoded once per line that an enabled endpoint wants (its `mediaType`).
  const enabled = config.endpoints.filter((endpoint) => !endpoint.disabled);
  const lines =
    format === "distribution"
      ? [received.mediaType]
      : [...new Set(enabled.map((endpoint) => endpoint.mediaType))];
  const queuedOn = new Map<string, Map<Event, QueuedEvent>>();
  try {
    for (const line of lines) {
      const texts =
        format === "distribution"
          ? eventTexts(raw, envelope, { mediaType: line })
          : all.map((event, i) => {
              // Named as the answer counts them: `events` first, then `unsupported`.
              const at = i < events.length ? `events[${i}]` : `unsupported[${i - events.length}]`;
              return eventText(event, line, at);
            });
      const queued = new Map<Event, QueuedEvent>();
      all.forEach((event, i) => {
        const { id, action, target } = event;
        queued.set(event, { id, action, repository: target.repository, text: texts[i] as string });
      });
      queuedOn.set(line, queued);
    }
  } catch (error) {
    // An event a queue row cannot hold: refused as a whole, before anything is queued.
    if (!(error instanceof EnvelopeError && error.tooLarge)) throw error;
    return refusal(format, error);
  }
  const outcomes: EndpointOutcome[] = [];
  const commits: Promise<void>[] = [];
  const failures: { endpoint: string; partition: number; error: unknown }[] = [];
  for (const endpoint of enabled) {
    const mediaType = format === "distribution" ? received.mediaType : endpoint.mediaType;
    const queued = queuedOn.get(mediaType) as Map<Event, QueuedEvent>;
    const kept = all.filter(routeOf(endpoint));
    const outcome: EndpointOutcome = {
      name: endpoint.name,
      queued: 0,
      ignored: all.length - kept.length,
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
  const counts =
    format === "distribution"
      ? { accepted: events.length }
      : { accepted: events.length, unsupported: unsupported.length };
  return Response.json({ ...counts, endpoints: outcomes }, { status: 202 });
}

const receivers = new WeakMap<RelayConfig, Map<InputFormat, MiddlewareHandler<AppEnv>>>();

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
 * The formats whose registries cannot set a request header: Docker Hub and Quay post to a bare
 * URL, and GitHub's webhooks carry no custom header (with RELAY_GITHUB_WEBHOOK_SECRET, its
 * signature is the credential instead).
 */
const queryTokenFormats: ReadonlySet<InputFormat> = new Set(["dockerhub", "quay", "github"]);

/** The receiver of one input format, built once per config. */
function receiverFor(config: RelayConfig, format: InputFormat): MiddlewareHandler<AppEnv> {
  let byFormat = receivers.get(config);
  if (!byFormat) {
    byFormat = new Map();
    receivers.set(config, byFormat);
  }
  let receiver = byFormat.get(format);
  if (!receiver) {
    const { githubSecret } = config;
    receiver = receiveEnvelopes<AppEnv>({
      format,
      tokens: config.ingestTokens,
      allowAnonymous: config.allowAnonymous,
      // Only for senders that cannot set headers: a token in a URL ends up in proxies' logs, so
      // routes whose registries send headers do not take one (the relay never logs a URL).
      queryToken: queryTokenFormats.has(format) && !(format === "github" && githubSecret),
      ...(format === "github" && githubSecret ? { githubSecret } : {}),
      maxBodyBytes: config.maxBodyBytes,
      // Under wrangler dev a half-read body breaks the connection's next request: drain it.
      drainBytes: Math.min(8 * config.maxBodyBytes, maxDrainBytes),
      onEnvelope: (envelope, { mediaType, raw, c, unsupported }) =>
        fanOut(c.env, config, { envelope, unsupported, raw, mediaType, format }),
    });
    byFormat.set(format, receiver);
  }
  return receiver;
}

/**
 * The `POST /v1/events` and `POST /v1/events/:format` handler: an unknown format is 404 naming
 * the known ones; a config whose endpoint targets this very route is refused
 * ({@link selfLoopIndex}, 500 `invalid_config`); then `receiveEnvelopes` for the format,
 * configured from the bindings (tokens, `?token=`, the GitHub secret, anonymous, body limit),
 * then {@link fanOut}.
 */
export const ingest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const format = c.req.param("format") ?? "distribution";
  if (!isInputFormat(format)) {
    const shown = JSON.stringify(format.slice(0, 64));
    return errorResponse(
      404,
      "unknown_format",
      `unknown notification format ${shown}; known formats: ${INPUT_FORMATS.join(", ")}`,
    );
  }
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
  return receiverFor(config, format)(c, next);
};

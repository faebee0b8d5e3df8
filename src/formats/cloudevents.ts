// The core's events out as CloudEvents 1.0 (JSON event format, structured and batched mode):
// one CloudEvent per registry event, the event itself as its data, so nothing is lost.
// Pure functions over web-standard globals; each is tree-shaken away when unused.
import {
  EventActionDelete,
  EventActionMount,
  EventActionPull,
  EventActionPush,
} from "../event/constants.ts";
import { isUnsupportedAction, type OutputFormat } from "../event/output.ts";
import type { Event } from "../event/schema.ts";
import { originOf } from "./model.ts";
import { registryHost } from "./purl.ts";

/**
 * Media type of one CloudEvent in structured mode (JSON event format); the body is a JSON object.
 *
 * @example
 * ```ts
 * import { CloudEventMediaType } from "registry-relay/formats";
 * if (contentType.startsWith(CloudEventMediaType)) handleOne(JSON.parse(body));
 * ```
 */
export const CloudEventMediaType = "application/cloudevents+json";

/**
 * Media type of a batch of CloudEvents (JSON batch format); the body is a JSON array.
 *
 * @example
 * ```ts
 * import { CloudEventsBatchMediaType } from "registry-relay/formats";
 * if (contentType.startsWith(CloudEventsBatchMediaType)) JSON.parse(body).forEach(handleOne);
 * ```
 */
export const CloudEventsBatchMediaType = "application/cloudevents-batch+json";

/**
 * The CloudEvents `type` of each distribution action. Blob and manifest events share a type, as
 * they share distribution's `action`: `data.target.mediaType` tells them apart.
 *
 * | `action`  | CloudEvents `type`                  |
 * | --------- | ----------------------------------- |
 * | `push`    | `dev.registryrelay.artifact.pushed`  |
 * | `pull`    | `dev.registryrelay.artifact.pulled`  |
 * | `mount`   | `dev.registryrelay.artifact.mounted` |
 * | `delete`  | `dev.registryrelay.artifact.deleted` |
 *
 * Any other action: see {@link cloudEventType}.
 *
 * @example
 * ```ts
 * import { CloudEventTypes } from "registry-relay/formats";
 * const pushes = events.filter((ce) => ce.type === CloudEventTypes.push);
 * ```
 */
export const CloudEventTypes = {
  [EventActionPush]: "dev.registryrelay.artifact.pushed",
  [EventActionPull]: "dev.registryrelay.artifact.pulled",
  [EventActionMount]: "dev.registryrelay.artifact.mounted",
  [EventActionDelete]: "dev.registryrelay.artifact.deleted",
} as const;

/** The options of the CloudEvents and CDEvents encoders. */
export interface CloudEventOptions {
  /**
   * The `source` of events that do not name their registry (no usable `request.host`,
   * `target.url`, `source.addr` or `source.instanceID`): a URI-reference such as
   * `https://registry.example.com` or `/registries/prod`. Default `"registry-relay"`.
   */
  source?: string | undefined;
}

/** One registry event as a CloudEvent (JSON event format), attributes in this order. */
export interface RegistryCloudEvent {
  specversion: "1.0";
  /** The event id: `source` + `id` identify the event, so a consumer drops redeliveries. */
  id: string;
  source: string;
  type: string;
  /** `repository:tag`, else `repository@digest`, else `repository`. */
  subject: string;
  /** The event's `timestamp` (RFC 3339). */
  time: string;
  datacontenttype: "application/json";
  /** Extension attribute: `origin.format` of an event normalized from another registry. */
  originformat?: string;
  /** Extension attribute: `origin.type`, the other registry's own event type. */
  origintype?: string;
  /** Extension attribute: `origin.id`, the other registry's own event or delivery id. */
  originid?: string;
  /** The registry event itself, unchanged. */
  data: Event;
}

/** A request body of CloudEvents and the `Content-Type` it goes with. */
export interface CloudEventsBody {
  contentType: typeof CloudEventMediaType | typeof CloudEventsBatchMediaType;
  /** Valid JSON text, the same for the same events. */
  body: string;
}

/**
 * The CloudEvents `type` of an action: {@link CloudEventTypes} for distribution's four; an action
 * containing a dot as it is (adapters of other registries give events without a distribution
 * action a full type, e.g. `harbor.scan.completed`); any other action `dev.registryrelay.<action>`
 * (e.g. GitLab's `rename` gives `dev.registryrelay.rename`).
 *
 * @example
 * ```ts
 * import { cloudEventType } from "registry-relay/formats";
 * cloudEventType("push"); // "dev.registryrelay.artifact.pushed"
 * cloudEventType("harbor.scan.completed"); // "harbor.scan.completed"
 * ```
 */
export function cloudEventType(action: string): string {
  if (Object.hasOwn(CloudEventTypes, action))
    return CloudEventTypes[action as keyof typeof CloudEventTypes];
  return isUnsupportedAction(action) ? action : `dev.registryrelay.${action}`;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The characters RFC 3986 allows in a URI-reference (a light check of an option's value). */
const uriReference = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;

function checkedSource(source: string | undefined): string | undefined {
  if (source === undefined) return undefined;
  if (typeof source !== "string" || !uriReference.test(source))
    throw new TypeError("source must be a non-empty URI-reference");
  return source;
}

/**
 * The CloudEvents `source` of an event: the registry, as a URI-reference; a redelivered event
 * gets the same one, so `source` + `id` identify it.
 *
 * 1. `//<host>` for the first valid host of `request.host`, `target.url` and `source.addr` (see
 *    `registryHost`): a network-path reference, because an event does not say whether the
 *    registry speaks HTTP or HTTPS, and `https://` would be a guess.
 * 2. `urn:uuid:<id>` for a UUID `source.instanceID` (distribution's per-process id).
 * 3. `options.source`, checked to be made of URI characters (else a `TypeError`).
 * 4. `"registry-relay"`.
 *
 * @example
 * ```ts
 * import { cloudEventSource } from "registry-relay/formats";
 * cloudEventSource(event); // "//registry.example.com:5000"
 * cloudEventSource(eventWithoutHost, { source: "https://registry.example.com" });
 * ```
 */
export function cloudEventSource(event: Event, options: CloudEventOptions = {}): string {
  return sourceWith(event, registryHost(event), options);
}

/** {@link cloudEventSource} with the event's registry host already found (toCDEvent needs it too). */
export function sourceWith(
  event: Event,
  host: string | undefined,
  options: CloudEventOptions,
): string {
  const fallback = checkedSource(options.source);
  if (host !== undefined) return `//${host}`;
  const instance = event.source?.instanceID;
  if (typeof instance === "string" && uuid.test(instance))
    return `urn:uuid:${instance.toLowerCase()}`;
  return fallback ?? "registry-relay";
}

/** `repository:tag`, else `repository@digest`, else `repository`. */
function subjectOf(event: Event): string {
  const { repository, tag, digest } = event.target;
  if (tag) return `${repository}:${tag}`;
  if (digest) return `${repository}@${digest}`;
  return repository;
}

/**
 * One registry event as a CloudEvents 1.0 event in the JSON event format (structured mode):
 *
 * - `specversion` `"1.0"`; `id` the event id (a redelivery has the same `source` and `id`);
 * - `source`: {@link cloudEventSource}; `type`: {@link cloudEventType};
 * - `subject`: `repository:tag`, else `repository@digest`, else `repository`;
 * - `time`: the event's `timestamp`; `datacontenttype` `"application/json"`;
 * - `originformat`, `origintype` and `originid` (extension attributes) when the event was
 *   normalized from another registry's notification: its `origin` (`originOf`), `originid` only
 *   when the origin has an id;
 * - `data`: the event itself, unchanged.
 *
 * Attributes always come in this order, so `JSON.stringify` of the same event is the same text.
 *
 * @example
 * ```ts
 * import { parseEnvelope } from "registry-relay";
 * import { toCloudEvent } from "registry-relay/formats";
 * for (const event of parseEnvelope(body).events) {
 *   const ce = toCloudEvent(event, { source: "https://registry.example.com" });
 *   console.log(ce.type, ce.subject); // dev.registryrelay.artifact.pushed team/app:v1
 * }
 * ```
 */
export function toCloudEvent(event: Event, options: CloudEventOptions = {}): RegistryCloudEvent {
  const origin = originOf(event);
  return {
    specversion: "1.0",
    id: event.id,
    source: cloudEventSource(event, options),
    type: cloudEventType(event.action),
    subject: subjectOf(event),
    time: event.timestamp,
    datacontenttype: "application/json",
    ...(origin && { originformat: origin.format, origintype: origin.type }),
    ...(origin?.id !== undefined && { originid: origin.id }),
    data: event,
  };
}

/**
 * The body of a POST of CloudEvents over HTTP: one event in structured mode
 * (`application/cloudevents+json`, a JSON object), anything else in batched mode
 * (`application/cloudevents-batch+json`, a JSON array; `[]` for none). `batch: true` chooses
 * batched mode for one event too (an endpoint whose POSTs may hold several keeps one content
 * type). Each event is {@link toCloudEvent}'s; the text is compact JSON, the same for the same
 * events.
 *
 * @example
 * ```ts
 * import { toCloudEventsBody } from "registry-relay/formats";
 * const { contentType, body } = toCloudEventsBody(envelope.events);
 * await fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
 * ```
 */
export function toCloudEventsBody(
  events: readonly Event[],
  options: CloudEventOptions & { batch?: boolean } = {},
): CloudEventsBody {
  const only = events.length === 1 && options.batch !== true ? events[0] : undefined;
  if (only !== undefined)
    return { contentType: CloudEventMediaType, body: JSON.stringify(toCloudEvent(only, options)) };
  return {
    contentType: CloudEventsBatchMediaType,
    body: JSON.stringify(events.map((event) => toCloudEvent(event, options))),
  };
}

/**
 * CloudEvents 1.0 as an endpoint's output format (`format: "cloudevents"` in a configuration):
 * every event, each {@link toCloudEvent}'s, in structured mode; an endpoint whose POSTs may hold
 * several (`maxBatch` > 1) sends every POST in batched mode, so it keeps one content type.
 *
 * @example
 * ```ts
 * import { Endpoint } from "registry-relay";
 * import { cloudEventsFormat } from "registry-relay/formats";
 * const endpoint = new Endpoint("events", "https://hooks.example.com/ce", { format: cloudEventsFormat, maxBatch: 10 });
 * ```
 */
export const cloudEventsFormat: OutputFormat = {
  name: "cloudevents",
  accepts: () => true,
  contentType: ({ maxBatch }) => (maxBatch > 1 ? CloudEventsBatchMediaType : CloudEventMediaType),
  body: (batch, { maxBatch }) => toCloudEventsBody(batch, { batch: maxBatch > 1 }).body,
};

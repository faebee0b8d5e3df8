// The core's manifest events out as CDEvents 0.5.1 artifact events, carried as CloudEvents in
// HTTP binary mode (CDEvents' CloudEvents binding): `ce-*` headers, the CDEvent as the JSON body.
// Pure functions over web-standard globals; tree-shaken away when unused.
import {
  EventActionDelete,
  EventActionPull,
  EventActionPush,
  mediaTypeOf,
} from "../event/constants.ts";
import type { OutputFormat } from "../event/output.ts";
import type { Event } from "../event/schema.ts";
import { type CloudEventOptions, sourceWith } from "./cloudevents.ts";
import { ociPurl, percentEncode, registryHost } from "./purl.ts";

/**
 * The CDEvents specification version of {@link toCDEvent}'s events (`context.specversion`).
 *
 * @example
 * ```ts
 * import { CDEventsSpecVersion } from "registry-relay/formats";
 * JSON.parse(message.body).context.specversion === CDEventsSpecVersion; // true
 * ```
 */
export const CDEventsSpecVersion = "0.5.1";

/**
 * The CDEvents type of each action sent, as the 0.5.1 schemas' `context.type` enum has it.
 *
 * | `action` | CDEvents `type`                          |
 * | -------- | ---------------------------------------- |
 * | `push`   | `dev.cdevents.artifact.published.0.3.0`  |
 * | `pull`   | `dev.cdevents.artifact.downloaded.0.2.0` |
 * | `delete` | `dev.cdevents.artifact.deleted.0.2.0`    |
 *
 * @example
 * ```ts
 * import { CDEventTypes } from "registry-relay/formats";
 * message.headers["ce-type"] === CDEventTypes.push; // a manifest push
 * ```
 */
export const CDEventTypes = {
  [EventActionPush]: "dev.cdevents.artifact.published.0.3.0",
  [EventActionPull]: "dev.cdevents.artifact.downloaded.0.2.0",
  [EventActionDelete]: "dev.cdevents.artifact.deleted.0.2.0",
} as const;

/**
 * The media types of manifests and indexes (image manifests, image indexes, manifest lists, the
 * OCI artifact manifest, Docker schema 1): an event whose `target.mediaType` is one of them is
 * about an artifact; any other media type is a blob's.
 *
 * @example
 * ```ts
 * import { ManifestMediaTypes } from "registry-relay/formats";
 * ManifestMediaTypes.includes("application/vnd.oci.image.index.v1+json"); // true
 * ```
 */
export const ManifestMediaTypes: readonly string[] = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.artifact.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/** A CDEvents 0.5.1 artifact event (published, downloaded or deleted) as {@link toCDEvent} makes it. */
export interface ArtifactCDEvent {
  context: {
    specversion: typeof CDEventsSpecVersion;
    /** The registry event's id. */
    id: string;
    /** As the CloudEvents `source` (`cloudEventSource`). */
    source: string;
    type: (typeof CDEventTypes)[keyof typeof CDEventTypes];
    /** The registry event's `timestamp`. */
    timestamp: string;
  };
  subject: {
    /** The artifact's package URL (`ociPurl`). */
    id: string;
    source: string;
    /** `user`: the actor's name, when the registry knew one. */
    content: { user?: string };
  };
}

/** A CDEvent as a CloudEvents binary-mode HTTP request: its headers and body. */
export interface CDEventMessage {
  /**
   * `ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-subject`, `ce-time` (values
   * percent-encoded as the CloudEvents HTTP binding says) and `content-type: application/json`.
   */
  headers: Record<string, string>;
  /** The CDEvent as compact JSON, the same for the same event. */
  body: string;
}

/** The CloudEvents HTTP binding's header value encoding: printable ASCII but space, `"` and `%` stay. */
const headerValue = (text: string) =>
  percentEncode(text, (byte) => byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25);

const isManifestMediaType = (mediaType: string): boolean =>
  ManifestMediaTypes.includes(mediaTypeOf(mediaType) ?? "");

/**
 * The CDEvents type an event is sent as, or `undefined` when it is not sent. Sent: a push, pull or
 * delete of something with a `target.digest` (a purl's version is the digest, so tag and
 * repository deletes are not sent) that is not a blob. A blob is an event whose `target.mediaType`
 * is present and not one of {@link ManifestMediaTypes}: distribution reports
 * `application/octet-stream` for every blob; layer and config types and unknown types count as
 * blobs too. An event without a media type counts as a manifest: distribution reports none on
 * deletes, where a manifest deleted by digest looks exactly like a deleted blob; manifest deletes
 * are the common case (a blob delete is an admin's API call, garbage collection sends no event),
 * and adapters of other registries may report artifacts without one. Mounts are blob-only and
 * actions of other registries (with a dot) have no CDEvents type: neither is sent.
 *
 * @example
 * ```ts
 * import { cdEventTypeOf } from "registry-relay/formats";
 * const sent = envelope.events.filter((event) => cdEventTypeOf(event) !== undefined);
 * ```
 */
export function cdEventTypeOf(event: Event): ArtifactCDEvent["context"]["type"] | undefined {
  if (!Object.hasOwn(CDEventTypes, event.action)) return undefined;
  const { digest, mediaType } = event.target;
  if (typeof digest !== "string" || digest === "") return undefined;
  if (mediaType !== undefined && !isManifestMediaType(mediaType)) return undefined;
  return CDEventTypes[event.action as keyof typeof CDEventTypes];
}

/**
 * One registry event as a CDEvents 0.5.1 artifact event in a CloudEvents binary-mode request, or
 * `undefined` for an event not sent ({@link cdEventTypeOf}: blobs, mounts, tag and repository
 * deletes, actions of other registries).
 *
 * - `context`: `specversion` `"0.5.1"`, `id` the event id, `source` as the CloudEvents `source`
 *   (`cloudEventSource`: `//<registry host>`, …), `type` ({@link CDEventTypes}), `timestamp`.
 * - `subject.id`: the artifact's package URL,
 *   `pkg:oci/<name>@<digest>?repository_url=<host>/<repository>&tag=<tag>` (`ociPurl`);
 *   `subject.source` the same as `context.source`; `subject.content.user` the actor's name when
 *   there is one (the schemas require `content`, not `user`).
 * - Headers: `ce-specversion: 1.0`, `ce-id`, `ce-source`, `ce-type`, `ce-subject` (the purl),
 *   `ce-time` (the timestamp) as the CDEvents binding maps them, percent-encoded as the CloudEvents
 *   HTTP binding says (so the purl's `%3A` is sent as `%253A`), and `content-type:
 *   application/json`.
 *
 * @example
 * ```ts
 * import { toCDEvent } from "registry-relay/formats";
 * const message = toCDEvent(event, { source: "https://registry.example.com" });
 * if (message) await fetch(url, { method: "POST", headers: message.headers, body: message.body });
 * ```
 */
export function toCDEvent(
  event: Event,
  options: CloudEventOptions = {},
): CDEventMessage | undefined {
  const type = cdEventTypeOf(event);
  const digest = event.target.digest;
  if (type === undefined || digest === undefined) return undefined;
  const host = registryHost(event);
  const source = sourceWith(event, host, options);
  const { repository, tag } = event.target;
  const purl = ociPurl({ repository, digest, tag, host });
  const user = event.actor?.name;
  const cdevent: ArtifactCDEvent = {
    context: {
      specversion: CDEventsSpecVersion,
      id: event.id,
      source,
      type,
      timestamp: event.timestamp,
    },
    subject: { id: purl, source, content: user ? { user } : {} },
  };
  return {
    headers: {
      "ce-specversion": "1.0",
      "ce-id": headerValue(event.id),
      "ce-source": headerValue(source),
      "ce-type": type,
      "ce-subject": headerValue(purl),
      "ce-time": headerValue(event.timestamp),
      "content-type": "application/json",
    },
    body: JSON.stringify(cdevent),
  };
}

/**
 * CDEvents 0.5.1 as an endpoint's output format (`format: "cdevents"` in a configuration): the
 * events with a CDEvents type ({@link cdEventTypeOf}), one per POST in CloudEvents binary mode
 * ({@link toCDEvent}). It refuses `maxBatch` over 1 and configured `ce-*` headers (each request
 * sets its own).
 *
 * @example
 * ```ts
 * import { Endpoint } from "registry-relay";
 * import { cdEventsFormat } from "registry-relay/formats";
 * const endpoint = new Endpoint("cd", "https://cd.example.com/events", { format: cdEventsFormat });
 * ```
 */
export const cdEventsFormat: OutputFormat = {
  name: "cdevents",
  accepts: (event) => cdEventTypeOf(event) !== undefined,
  contentType: () => "application/json",
  body: (batch) => {
    const event = batch[0] as Event;
    const message = batch.length === 1 ? toCDEvent(event) : undefined;
    if (message === undefined) {
      throw new TypeError(
        batch.length !== 1
          ? "a CDEvents POST carries one event (maxBatch must be 1)"
          : `${event.action} of ${event.target.repository} has no CDEvents type (cdEventTypeOf): a blob, a mount, a delete by tag or another registry's own event`,
      );
    }
    const headers = Object.entries(message.headers).filter(([name]) => name !== "content-type");
    return { body: message.body, headers };
  },
  refuses: ({ maxBatch }, headerNames) =>
    maxBatch !== 1
      ? 'maxBatch must be 1 with format "cdevents"'
      : headerNames.some((name) => /^ce-/i.test(name))
        ? 'headers must not set ce-* with format "cdevents"'
        : undefined,
};

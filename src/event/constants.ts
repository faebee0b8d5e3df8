/**
 * Media type of an envelope on distribution's v2.x line (2.0 – 2.8), the line every
 * Debian/Ubuntu `docker-registry` and most deployed registries speak.
 *
 * @example
 * ```ts
 * import { EventsMediaType } from "registry-relay";
 * fetch(url, { method: "POST", headers: { "content-type": EventsMediaType }, body });
 * ```
 */
export const EventsMediaType = "application/vnd.docker.distribution.events.v1+json";

/**
 * Media type of an envelope on distribution's v3 line (OCI descriptors: `mediaType`, `digest`
 * and `size` are always present, in that order).
 *
 * @example
 * ```ts
 * import { encodeEnvelope, EventsMediaTypeV2 } from "registry-relay";
 * const body = encodeEnvelope(envelope, { mediaType: EventsMediaTypeV2 });
 * ```
 */
export const EventsMediaTypeV2 = "application/vnd.docker.distribution.events.v2+json";

/**
 * `action` of an event for a manifest or blob that was fetched (GET or HEAD).
 *
 * @example
 * ```ts
 * import { EventActionPull } from "registry-relay";
 * const pulls = envelope.events.filter((e) => e.action === EventActionPull);
 * ```
 */
export const EventActionPull = "pull";

/**
 * `action` of an event for a manifest or blob that was uploaded.
 *
 * @example
 * ```ts
 * import { EventActionPush } from "registry-relay";
 * const pushed = envelope.events.filter((e) => e.action === EventActionPush && e.target.tag);
 * ```
 */
export const EventActionPush = "push";

/**
 * `action` of an event for a blob mounted from another repository (`target.fromRepository`).
 *
 * @example
 * ```ts
 * import { EventActionMount } from "registry-relay";
 * if (event.action === EventActionMount) console.log(event.target.fromRepository);
 * ```
 */
export const EventActionMount = "mount";

/**
 * `action` of an event for a deleted manifest, blob, tag or repository.
 *
 * @example
 * ```ts
 * import { EventActionDelete } from "registry-relay";
 * const deletes = envelope.events.filter((e) => e.action === EventActionDelete);
 * ```
 */
export const EventActionDelete = "delete";

/**
 * The media type distribution's filesystem blob store reports for every blob event. Ignoring it
 * drops all blob events (distribution's documented recipe).
 *
 * @example
 * ```ts
 * import { BlobMediaType, IgnoredSink } from "registry-relay";
 * const manifestsOnly = new IgnoredSink(next, { mediaTypes: [BlobMediaType] });
 * ```
 */
export const BlobMediaType = "application/octet-stream";

/**
 * The four actions distribution emits. Parsing accepts any non-empty action string (forward
 * compatibility); this type names the known ones.
 *
 * @example
 * ```ts
 * import type { EventAction } from "registry-relay";
 * const wanted: EventAction[] = ["push", "delete"];
 * ```
 */
export type EventAction =
  | typeof EventActionPull
  | typeof EventActionPush
  | typeof EventActionMount
  | typeof EventActionDelete;

/**
 * The two envelope wire lines.
 *
 * @example
 * ```ts
 * import type { EnvelopeMediaType } from "registry-relay";
 * const line: EnvelopeMediaType = "application/vnd.docker.distribution.events.v1+json";
 * ```
 */
export type EnvelopeMediaType = typeof EventsMediaType | typeof EventsMediaTypeV2;

/**
 * The media type of a `Content-Type` header without its parameters, lower-cased
 * (`Application/JSON; charset=utf-8` → `application/json`); `undefined` when missing or empty.
 *
 * @example
 * ```ts
 * import { mediaTypeOf } from "registry-relay";
 * mediaTypeOf("application/vnd.docker.distribution.events.v1+json; charset=utf-8");
 * // "application/vnd.docker.distribution.events.v1+json"
 * ```
 */
export function mediaTypeOf(contentType: string | null | undefined): string | undefined {
  const essence = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase();
  return essence ? essence : undefined;
}

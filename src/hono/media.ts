// Which Content-Type values carry an envelope.
import { EventsMediaType, EventsMediaTypeV2 } from "../event/constants.ts";

/**
 * The media types an envelope may arrive with: both wire lines and plain `application/json`.
 *
 * @example
 * ```ts
 * import { envelopeMediaTypes } from "registry-relay/hono";
 * envelopeMediaTypes.includes("application/json"); // true
 * ```
 */
export const envelopeMediaTypes: readonly string[] = [
  EventsMediaType,
  EventsMediaTypeV2,
  "application/json",
];

/**
 * The media type of a `Content-Type` header without its parameters, lower-cased
 * (`Application/JSON; charset=utf-8` → `application/json`); `undefined` when missing or empty.
 *
 * @example
 * ```ts
 * import { mediaTypeOf } from "registry-relay/hono";
 * mediaTypeOf("application/vnd.docker.distribution.events.v1+json; charset=utf-8");
 * // "application/vnd.docker.distribution.events.v1+json"
 * ```
 */
export function mediaTypeOf(contentType: string | null | undefined): string | undefined {
  const essence = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase();
  return essence ? essence : undefined;
}

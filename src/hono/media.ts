// Which Content-Type values carry an envelope.
import { EventsMediaType, EventsMediaTypeV2 } from "../event/constants.ts";

// The rule is the core's (a `Content-Type`'s essence): registry-relay/hono has it too.
export { mediaTypeOf } from "../event/constants.ts";

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

// How an endpoint writes events on the wire: an output format. Distribution's envelopes are the
// core's own; the CloudEvents and CDEvents formats live in registry-relay/formats, so a bundle
// carries only the encoders it sends with (an Endpoint that sends envelopes has none of them).

import type { EnvelopeMediaType } from "./constants.ts";
import { encodeEnvelope } from "./encode.ts";
import type { Event } from "./schema.ts";

/**
 * The names of the output formats, as an endpoint's configuration writes them (`format`):
 * `distribution` envelopes (the default), `cloudevents` or `cdevents`.
 *
 * @example
 * ```ts
 * import type { EndpointFormat } from "registry-relay";
 * const format: EndpointFormat = "cloudevents";
 * ```
 */
export type EndpointFormat = "distribution" | "cloudevents" | "cdevents";

/**
 * Every {@link EndpointFormat}, in the order the docs list them.
 *
 * @example
 * ```ts
 * import { ENDPOINT_FORMATS } from "registry-relay";
 * ENDPOINT_FORMATS.includes("cdevents"); // true
 * ```
 */
export const ENDPOINT_FORMATS: readonly EndpointFormat[] = [
  "distribution",
  "cloudevents",
  "cdevents",
];

/**
 * A body with the headers that vary per request (CDEvents' `ce-*` attributes in CloudEvents
 * binary mode).
 *
 * @example
 * ```ts
 * import type { OutputMessage } from "registry-relay";
 * const message: OutputMessage = { body: "{}", headers: [["ce-id", "1"]] };
 * ```
 */
export interface OutputMessage {
  body: string;
  headers: [name: string, value: string][];
}

/**
 * What the POSTs of an endpoint are made with: its envelope media type line and events per POST.
 *
 * @example
 * ```ts
 * import { EventsMediaType, type OutputShape } from "registry-relay";
 * const shape: OutputShape = { mediaType: EventsMediaType, maxBatch: 10 };
 * ```
 */
export interface OutputShape {
  mediaType: EnvelopeMediaType;
  maxBatch: number;
}

/**
 * An output format: which events it can carry, and the content type and body of each POST.
 * `distributionFormat` is the core's; `cloudEventsFormat`, `cdEventsFormat` and `outputFormats`
 * (by name, for configurations) are registry-relay/formats'. Write your own for any other wire
 * form (its events still come signed, batched, retried and dead-lettered like any other).
 *
 * @example
 * ```ts
 * import { Endpoint, type OutputFormat } from "registry-relay";
 * const chat: OutputFormat = {
 *   name: "chat",
 *   accepts: (event) => event.action === "push" && event.target.tag !== undefined,
 *   contentType: () => "application/json",
 *   body: (batch) => JSON.stringify({ text: batch.map((e) => `${e.target.repository}:${e.target.tag}`).join("\n") }),
 * };
 * const endpoint = new Endpoint("chat", "https://chat.example.com/hook", { format: chat, maxBatch: 20 });
 * ```
 */
export interface OutputFormat {
  /** Its name: the `format` an endpoint's `toJSON` and the relay's admin API show. */
  readonly name: string;
  /** Whether an event can be sent in this format; routing drops the others before queuing. */
  accepts(event: Event): boolean;
  /** The `content-type` of every POST. */
  contentType(shape: OutputShape): string;
  /** The body of one POST; it throws for a batch it cannot write. */
  body(batch: Event[], shape: OutputShape): string | OutputMessage;
  /**
   * Why an endpoint's POSTs cannot be made in this format (CDEvents: more than one event per POST,
   * or a configured `ce-*` header), or `undefined`.
   */
  refuses?(shape: OutputShape, headerNames: readonly string[]): string | undefined;
}

/**
 * Whether an action is a source's own event type rather than one of distribution's: the adapters
 * give events distribution has no action for a CloudEvents type, which always has a dot
 * (`harbor.scan.completed`, `dev.registryrelay.quay.build_success`); distribution's actions (and
 * GitLab's `rename`) never do. Such events are `unsupported`: only CloudEvents carry them.
 *
 * @example
 * ```ts
 * import { isUnsupportedAction } from "registry-relay";
 * isUnsupportedAction("harbor.scan.completed"); // true
 * isUnsupportedAction("push"); // false
 * ```
 */
export const isUnsupportedAction = (action: string): boolean => action.includes(".");

/**
 * Distribution's envelopes, byte for byte (`encodeEnvelope`) on the endpoint's `mediaType` line:
 * every event but other registries' own types.
 *
 * @example
 * ```ts
 * import { distributionFormat } from "registry-relay";
 * const body = distributionFormat.body(envelope.events, { mediaType: "application/vnd.docker.distribution.events.v1+json", maxBatch: 1 });
 * ```
 */
export const distributionFormat: OutputFormat = {
  name: "distribution",
  accepts: (event) => !isUnsupportedAction(event.action),
  contentType: ({ mediaType }) => mediaType,
  body: (events, { mediaType }) => encodeEnvelope({ events }, { mediaType }),
};

/**
 * The output format an endpoint's `format` names: `distributionFormat` for `distribution` or
 * none, the format itself when given one. The other names are registry-relay/formats' (its
 * `outputFormats`): given as names, a `TypeError` says where their objects are.
 */
export function outputFormatOf(
  format: EndpointFormat | OutputFormat | null | undefined,
  who: string,
): OutputFormat {
  if (format == null || format === "distribution") return distributionFormat;
  if (typeof format === "object" && typeof format.body === "function") return format;
  throw new TypeError(
    `${who}: format must be "distribution" or an OutputFormat (outputFormats of registry-relay/formats)`,
  );
}

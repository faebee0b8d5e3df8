// What a POST carries for each output format of an endpoint: the
// content type, and the body of a batch with the headers that vary per request (CDEvents'
// `ce-*` attributes in CloudEvents binary mode).
import type { EnvelopeMediaType } from "../event/constants.ts";
import { encodeEnvelope } from "../event/encode.ts";
import type { Event } from "../event/schema.ts";
import { toCDEvent } from "../formats/cdevents.ts";
import {
  CloudEventMediaType,
  CloudEventsBatchMediaType,
  toCloudEventsBody,
} from "../formats/cloudevents.ts";
import type { HeaderPair } from "./http-request.ts";

/**
 * What an endpoint receives: `distribution` envelopes (the default), CloudEvents 1.0 in
 * structured mode, or CDEvents 0.5.1 in CloudEvents binary mode.
 *
 * @example
 * ```ts
 * import type { EndpointFormat } from "registry-relay";
 * const format: EndpointFormat = "cloudevents";
 * ```
 */
export type EndpointFormat = "distribution" | "cloudevents" | "cdevents";

/**
 * The endpoint output formats, in the order the docs list them.
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

/** A POST's body, and the headers that go with this body only. */
export interface Message {
  body: string;
  headers: HeaderPair[];
}

/** Builds the body of one POST from its batch (throws when it cannot be encoded). */
export type BodyOf<T> = (batch: T[]) => string | Message;

/**
 * The content type of every POST of an endpoint: the envelope line; CloudEvents' batch type
 * whenever a POST may hold several events (so a receiver sees one type per endpoint), else the
 * structured type; `application/json` for CDEvents (binary mode: the body is the data).
 *
 * @example
 * ```ts
 * import { contentTypeOf, EventsMediaType } from "registry-relay";
 * contentTypeOf("cloudevents", EventsMediaType, 10); // "application/cloudevents-batch+json"
 * ```
 */
export function contentTypeOf(
  format: EndpointFormat,
  mediaType: EnvelopeMediaType,
  maxBatch: number,
): string {
  if (format === "cloudevents")
    return maxBatch > 1 ? CloudEventsBatchMediaType : CloudEventMediaType;
  return format === "cdevents" ? "application/json" : mediaType;
}

/** The body builder of `write` for a format. */
export function eventsBody(
  format: EndpointFormat,
  mediaType: EnvelopeMediaType,
  maxBatch: number,
): BodyOf<Event> {
  if (format === "cloudevents") {
    return (batch) => toCloudEventsBody(batch, { batch: maxBatch > 1 }).body;
  }
  if (format === "cdevents") {
    return (batch) => {
      const event = batch[0] as Event;
      const message = toCDEvent(event);
      if (batch.length !== 1 || message === undefined) {
        throw new TypeError(
          batch.length !== 1
            ? "a CDEvents POST carries one event (maxBatch must be 1)"
            : `${event.action} of ${event.target.repository} has no CDEvents type (cdEventTypeOf): a blob, a mount, a delete by tag or another registry's own event`,
        );
      }
      const headers = Object.entries(message.headers).filter(([name]) => name !== "content-type");
      return { body: message.body, headers };
    };
  }
  return (batch) => encodeEnvelope({ events: batch }, { mediaType });
}

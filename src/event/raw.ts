// The registry's own bytes, end to end: each event's JSON text sliced from the body it arrived in,
// and distribution's envelope frame to put such texts back into. A receiver that gets the texts
// of one line in this frame gets what Go's MarshalIndent would have written for those events.

import type { EnvelopeMediaType } from "./constants.ts";
import { bodyText } from "./decode.ts";
import { encodeEvent } from "./encode.ts";
import { MAX_EVENT_BYTES, utf8Length } from "./limits.ts";
import { eventBounds } from "./scan.ts";
import type { Envelope } from "./schema.ts";

/**
 * An event as JSON text, ready to be sent: what `HttpSink.writeEncoded` takes. `text` is the
 * event object as it sits inside an envelope (from its `{` to its `}`), such as
 * {@link eventTexts} slices from a body; `mediaType` is the line it was written on.
 *
 * @example
 * ```ts
 * import { type EncodedEvent, eventTexts, parseEnvelope } from "registry-relay";
 * const envelope = parseEnvelope(bytes);
 * const texts = eventTexts(bytes, envelope, { mediaType });
 * const encoded: EncodedEvent[] = envelope.events.map((event, i) => ({ id: event.id, text: texts[i], mediaType }));
 * ```
 */
export interface EncodedEvent {
  /** The event's id (a signed POST's `webhook-id` is derived from it). */
  id: string;
  /** The event's JSON text, as {@link eventTexts} gives it. */
  text: string;
  /**
   * The media type `text` was received as. A sink of this media type sends `text` as it is; any
   * other (or none here) parses it and writes the event on its own line.
   */
  mediaType?: string;
}

/**
 * Options of {@link eventTexts}.
 *
 * @example
 * ```ts
 * import { EventsMediaTypeV2, type EventTextsOptions } from "registry-relay";
 * const options: EventTextsOptions = { mediaType: EventsMediaTypeV2 };
 * ```
 */
export interface EventTextsOptions {
  /** The media type the body arrived with: the line of a text that must be re-encoded. */
  mediaType?: string;
}

/**
 * Each event's JSON text exactly as it is in `body`, from its `{` to its `}`, in order: the
 * registry's own bytes, with its whitespace and escapes (`\ufffd`, `\u003c`…). `envelope` is what
 * `parseEnvelope` returned for this same body (string or bytes): the texts are cut from the very
 * text it parsed, so each one parses back to its event. That text has a leading BOM dropped and
 * lone surrogates read as U+FFFD (a raw one as U+FFFD, an escaped one as `\ufffd`), which no Go
 * encoder writes. A text longer than `MAX_EVENT_BYTES` in UTF-8 (a body padded with whitespace or
 * needless escapes) is the event's encoding on the line of `mediaType` instead, so every text
 * fits wherever its event does.
 *
 * @throws TypeError when `body` does not hold the envelope's events.
 * @example
 * ```ts
 * import { eventTexts, frameEnvelope, parseEnvelope } from "registry-relay";
 * const envelope = parseEnvelope(bytes);
 * const texts = eventTexts(bytes, envelope);
 * frameEnvelope(texts) === new TextDecoder().decode(bytes); // true for a distribution body
 * ```
 */
export function eventTexts(
  body: string | ArrayBuffer | ArrayBufferView,
  envelope: Envelope,
  options: EventTextsOptions = {},
): string[] {
  const decoded = bodyText(body);
  const { events } = envelope;
  const bounds = decoded !== undefined && "text" in decoded ? eventBounds(decoded.text) : [];
  if (decoded === undefined || !("text" in decoded) || bounds.length !== 2 * events.length) {
    throw new TypeError(
      `eventTexts: the body does not hold the envelope's ${events.length} event(s): pass the body parseEnvelope read`,
    );
  }
  const { text } = decoded;
  const texts = new Array<string>(events.length);
  for (let k = 0; k < events.length; k++) {
    let slice = text.slice(bounds[2 * k], bounds[2 * k + 1]);
    // A UTF-16 unit is at most 3 UTF-8 bytes: most texts need no count.
    if (slice.length * 3 > MAX_EVENT_BYTES && utf8Length(slice) > MAX_EVENT_BYTES) {
      slice = encodeEvent(events[k], options.mediaType, `events[${k}]`);
    }
    texts[k] = slice;
  }
  return texts;
}

/**
 * An envelope of these event texts in distribution's frame, as Go's
 * `json.MarshalIndent(envelope, "", "   ")` writes it (no trailing newline). Texts of one line cut
 * from Go bodies ({@link eventTexts}) give exactly what Go writes for those events in one
 * envelope, so a batch of them stays byte-exact.
 *
 * @example
 * ```ts
 * import { frameEnvelope } from "registry-relay";
 * frameEnvelope(['{"id":"a"}']); // '{\n   "events": [\n      {"id":"a"}\n   ]\n}'
 * ```
 */
export function frameEnvelope(texts: readonly string[]): string {
  if (texts.length === 0) return '{\n   "events": []\n}';
  return `{\n   "events": [\n      ${texts.join(",\n      ")}\n   ]\n}`;
}

/**
 * The envelope of these encoded events on the line of `mediaType`: the text of each event received
 * on that line as it is, any other parsed and encoded on it (`encodeEvent`), all in
 * {@link frameEnvelope}. Throws a TypeError naming `events[k]` for a text that is not JSON or an
 * event that cannot be encoded.
 */
export function frameEncoded(
  events: readonly EncodedEvent[],
  mediaType: EnvelopeMediaType,
): string {
  const texts = new Array<string>(events.length);
  for (let k = 0; k < events.length; k++) {
    const { text, mediaType: line } = events[k] as EncodedEvent;
    if (typeof text !== "string") throw new TypeError(`events[${k}].text is not a string`);
    if (line === mediaType) texts[k] = text;
    else {
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch (error) {
        throw new TypeError(`events[${k}].text is not JSON: ${(error as Error)?.message}`);
      }
      texts[k] = encodeEvent(event, mediaType, `events[${k}]`);
    }
  }
  return frameEnvelope(texts);
}

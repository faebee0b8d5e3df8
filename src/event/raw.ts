// The registry's own bytes, end to end: each event's JSON text sliced from the body it arrived in,
// and distribution's envelope frame to put such texts back into. A receiver that gets the texts
// of one line in this frame gets what Go's MarshalIndent would have written for those events.

import type { EnvelopeMediaType } from "./constants.ts";
import { bodyText } from "./decode.ts";
import { encodeEvent } from "./encode.ts";
import { type Finding, MAX_EVENT_BYTES, utf8Length } from "./limits.ts";
import { EnvelopeError } from "./parse.ts";
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
 * needless escapes) is the event's encoding on the line of `mediaType` instead
 * ({@link eventText}); an event whose encoding is longer still is refused.
 *
 * @throws TypeError when `body` does not hold the envelope's events.
 * @throws EnvelopeError (`tooLarge`) naming each event over `MAX_EVENT_BYTES`: a store of one row
 * per event cannot hold it.
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
  const issues: Finding[] = [];
  for (let k = 0; k < events.length; k++) {
    const slice = text.slice(bounds[2 * k], bounds[2 * k + 1]);
    if (!tooLong(slice)) texts[k] = slice;
    else {
      const encoded = encodeEvent(events[k], options.mediaType, `events[${k}]`);
      if (tooLong(encoded)) issues.push(sizeIssue(encoded, `events[${k}]`));
      texts[k] = encoded;
    }
  }
  if (issues.length > 0) throw new EnvelopeError(issues);
  return texts;
}

// A UTF-16 unit is at most 3 UTF-8 bytes: most texts need no count.
const tooLong = (text: string) =>
  text.length * 3 > MAX_EVENT_BYTES && utf8Length(text) > MAX_EVENT_BYTES;

const sizeIssue = (text: string, path: string) => ({
  path,
  message: `encodes to ${utf8Length(text)} bytes, over MAX_EVENT_BYTES (${MAX_EVENT_BYTES})`,
});

/**
 * One event as the text a store of one row per event keeps: its encoding on the line of
 * `mediaType` (`encodeEnvelope`'s, from its `{` to its `}`), for events that did not come as a
 * distribution body (another registry's, normalized; an event built in code). `path` names the
 * event in errors.
 *
 * @throws EnvelopeError (`tooLarge`) when the text is over `MAX_EVENT_BYTES`; TypeError when the
 * event cannot be encoded (as `encodeEnvelope`).
 * @example
 * ```ts
 * import { eventText, EventsMediaType } from "registry-relay";
 * const text = eventText(event, EventsMediaType);
 * ```
 */
export function eventText(event: unknown, mediaType?: string, path = "events[0]"): string {
  const text = encodeEvent(event, mediaType, path);
  if (tooLong(text)) throw new EnvelopeError([sizeIssue(text, path)]);
  return text;
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

/** The event of an encoded event's `text` (at `events[k]`); a TypeError naming it if not JSON. */
export function parsedText(text: string, k: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TypeError(`events[${k}].text is not JSON: ${(error as Error)?.message}`);
  }
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
    texts[k] =
      line === mediaType ? text : encodeEvent(parsedText(text, k), mediaType, `events[${k}]`);
  }
  return frameEnvelope(texts);
}

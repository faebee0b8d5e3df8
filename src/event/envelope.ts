// `registry-relay/envelope`: reading and writing the notification envelope exactly as
// distribution does, and carrying a registry's own bytes through. One job per module:
//
// - limits.ts: what an accepted envelope may hold (depth, event and key sizes) and its checks;
// - fields.ts: the envelope's known fields and their kinds, which validation and encoding share;
// - decode.ts: a body (string or bytes) as the text to parse (strict UTF-8, BOM, lone surrogates);
// - scan.ts: JSON text without parsing it (syntax error positions, a duplicate "events" key, where
//   each event starts and ends);
// - validate.ts: the rules of schema.ts and the limits of limits.ts, in place on the parsed value;
// - parse.ts: `parseEnvelope` / `safeParseEnvelope` and `EnvelopeError`;
// - encode.ts: `encodeEnvelope`, Go's `json.MarshalIndent(env, "", "   ")` on either line;
// - raw.ts: `eventTexts` (each event's text as received) and `frameEnvelope` (Go's frame).

export { type EncodeEnvelopeOptions, encodeEnvelope } from "./encode.ts";
export { MAX_EVENT_BYTES, MAX_EVENT_KEY_BYTES, MAX_JSON_DEPTH } from "./limits.ts";
export {
  EnvelopeError,
  type EnvelopeIssue,
  parseEnvelope,
  type SafeParseEnvelopeResult,
  safeParseEnvelope,
} from "./parse.ts";
export {
  type EncodedEvent,
  type EventTextsOptions,
  eventText,
  eventTexts,
  frameEnvelope,
} from "./raw.ts";

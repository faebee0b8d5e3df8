// Parsing a notification body: decode (decode.ts), JSON.parse, a duplicate "events" key (scan.ts),
// then validation in place (validate.ts). It accepts exactly what the relay can key, list and
// deliver: every accepted envelope encodes on both lines, and encoding its output again gives the
// same bytes. Hence the limits of limits.ts, finite numbers only, one "events" key, and lone
// surrogates read as U+FFFD (as Go's decoder does). The size of one stored event is the store's
// own check (raw.ts, eventTexts), so receivers that only parse do not carry the encoder.

import { bodyText } from "./decode.ts";
import { issuesLine, onlySizeLimits } from "./limits.ts";
import { parseJson } from "./scan.ts";
import type { Envelope } from "./schema.ts";
import { checkEnvelope } from "./validate.ts";

/**
 * One problem found in an envelope: where (`events[0].target.repository`, `""` for the body or
 * root value) and what is wrong.
 *
 * @example
 * ```ts
 * import type { EnvelopeIssue } from "registry-relay";
 * const issue: EnvelopeIssue = { path: "events[0].id", message: "is required" };
 * ```
 */
export interface EnvelopeIssue {
  path: string;
  message: string;
}

/**
 * The result of `safeParseEnvelope`.
 *
 * @example
 * ```ts
 * import { safeParseEnvelope, type SafeParseEnvelopeResult } from "registry-relay";
 * const result: SafeParseEnvelopeResult = safeParseEnvelope(body);
 * if (!result.success) console.log(result.issues);
 * ```
 */
export type SafeParseEnvelopeResult =
  | { success: true; envelope: Envelope }
  | { success: false; issues: EnvelopeIssue[] };

/**
 * Thrown by `parseEnvelope` for a body that is not a valid envelope, and by `eventTexts` for an
 * event too large to store. `issues` lists every problem (up to 50) with its path; the message
 * repeats the first ones. `tooLarge` is true when every issue is a size limit (an id over
 * `MAX_EVENT_KEY_BYTES`, an event over `MAX_EVENT_BYTES`): an HTTP receiver answers 413 rather
 * than 400.
 *
 * @example
 * ```ts
 * import { EnvelopeError, parseEnvelope } from "registry-relay";
 * try {
 *   parseEnvelope('{"events":[{}]}');
 * } catch (error) {
 *   if (error instanceof EnvelopeError) console.log(error.issues[0]); // { path: "events[0].id", message: "is required" }
 *   if (error instanceof EnvelopeError) console.log(error.tooLarge ? 413 : 400); // 400
 * }
 * ```
 */
export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
  declare readonly issues: EnvelopeIssue[];
  /** Every issue is a size limit: its message says "over MAX_EVENT_BYTES" or "over
   * MAX_EVENT_KEY_BYTES". False when there is no issue. */
  declare readonly tooLarge: boolean;

  constructor(issues: EnvelopeIssue[]) {
    super(`invalid envelope: ${issuesLine(issues)}`);
    this.issues = issues;
    this.tooLarge = onlySizeLimits(issues);
  }
}

/**
 * Parses and validates a notification body without throwing. Accepts the raw body (string,
 * `Uint8Array` or any `ArrayBufferView`, `ArrayBuffer`; bytes must be UTF-8; a leading BOM is
 * ignored, unlike Go) or an already-parsed JSON value. The envelope returned is the parsed value
 * itself, validated in place: unknown fields (a newer registry's) are all kept, in their order.
 * Integer-like unknown keys ("1") come first, as in every JavaScript object.
 *
 * Rules (schema.ts): `events` is an array; each event has a non-empty `id` and `action`, an
 * RFC 3339 `timestamp` and a `target` object with a non-empty `repository`; every known field
 * has its type (sizes are non-negative integers). Up to 50 issues are reported.
 *
 * Limits, so that every accepted envelope can be encoded (`encodeEnvelope`, either line), keyed
 * and re-encodes to the same bytes, each refused with the path of the value at fault: nesting up
 * to `MAX_JSON_DEPTH` (64) levels, the envelope being level 1; ids of at most
 * `MAX_EVENT_KEY_BYTES` (1024) UTF-8 bytes; finite numbers (`1e400` is refused); one `"events"` key (JSON.parse would
 * keep the last one only). A lone surrogate (`"\ud800"`) in text is read as U+FFFD, as Go does.
 *
 * @example
 * ```ts
 * import { safeParseEnvelope } from "registry-relay";
 * const result = safeParseEnvelope(await request.arrayBuffer());
 * if (!result.success) return Response.json({ issues: result.issues }, { status: 400 });
 * for (const event of result.envelope.events) console.log(event.action, event.target.repository);
 * ```
 */
export function safeParseEnvelope(body: unknown): SafeParseEnvelopeResult {
  let issues: EnvelopeIssue[] = [];
  let value = body;
  try {
    const decoded = bodyText(body);
    if (decoded && "message" in decoded) issues.push(decoded);
    else if (decoded) value = parseJson(decoded, issues);
    if (!issues.length) checkEnvelope(value, issues);
  } catch (error) {
    // Only exotic inputs get here (a getter or proxy that throws, an engine out of stack or
    // memory): still an answer, not a throw.
    let shown = "an exception";
    try {
      shown = String(error);
    } catch {}
    issues = [{ path: "", message: `could not be read: ${shown}` }];
  }
  return issues.length
    ? { success: false, issues }
    : { success: true, envelope: value as Envelope };
}

/**
 * Parses and validates a notification body (see `safeParseEnvelope` for inputs and rules).
 *
 * @throws EnvelopeError listing every problem with its path.
 * @example
 * ```ts
 * import { parseEnvelope } from "registry-relay";
 * const envelope = parseEnvelope(await request.text());
 * const pushes = envelope.events.filter((event) => event.action === "push");
 * ```
 */
export function parseEnvelope(body: unknown): Envelope {
  const result = safeParseEnvelope(body);
  if (!result.success) throw new EnvelopeError(result.issues);
  return result.envelope;
}

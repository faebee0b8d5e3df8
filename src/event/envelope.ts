// Reading and writing the notification envelope exactly as distribution does.
//
// Parsing validates the JSON value in place in one pass (no copy), with the rules of schema.ts:
// valibot alone costs about as much as JSON.parse on real envelopes, which would halve receive
// throughput. test/core/envelope.test.ts checks that this pass and `EnvelopeSchema` agree.
// Encoding is a direct string builder reproducing Go's `json.MarshalIndent(env, "", "   ")`.
//
// Parsing accepts exactly what the relay can store, list and deliver: every accepted envelope
// encodes on both lines, and encoding its output again gives the same bytes. Hence the limits
// of limits.ts (MAX_JSON_DEPTH, MAX_EVENT_BYTES, MAX_EVENT_KEY_BYTES), finite numbers
// only, one "events" key, and lone surrogates read as U+FFFD (as Go's decoder does).

import type { EnvelopeMediaType } from "./constants.ts";
import { EventsMediaTypeV2 } from "./constants.ts";
import { isTimestamp } from "./ids.ts";
import {
  child,
  duplicateEventsIssue,
  join,
  jsonIssue,
  MAX_EVENT_BYTES,
  MAX_EVENT_KEY_BYTES,
  measure,
  memberBytes,
  utf8Length,
  wellFormed,
} from "./limits.ts";
import type { Envelope } from "./schema.ts";

export { MAX_EVENT_BYTES, MAX_EVENT_KEY_BYTES, MAX_JSON_DEPTH } from "./limits.ts";

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
 * Thrown by `parseEnvelope` for a body that is not a valid envelope. `issues` lists every
 * problem (up to 50) with its path; the message repeats the first ones. `tooLarge` is true when
 * every issue is a size limit (an event over `MAX_EVENT_BYTES`, an id over
 * `MAX_EVENT_KEY_BYTES`): an HTTP receiver answers 413 rather than 400.
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
  readonly issues: EnvelopeIssue[];
  /** Every issue is a size limit: its message says "over MAX_EVENT_BYTES" or "over
   * MAX_EVENT_KEY_BYTES". False when there is no issue. */
  readonly tooLarge: boolean;

  constructor(issues: EnvelopeIssue[]) {
    const shown = issues
      .slice(0, 3)
      .map((issue) => (issue.path ? `${issue.path}: ` : "") + issue.message);
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
    super(`invalid envelope: ${shown.join("; ")}${more}`);
    this.issues = issues;
    this.tooLarge = issues.length > 0 && issues.every((issue) => SIZE_LIMIT.test(issue.message));
  }
}

// ---------------------------------------------------------------------------------------------
// The envelope's known fields, in distribution 2.x's struct order. One table drives both the
// validator (the rules of schema.ts) and the encoder (each wire line's key order).

/** Field kinds; kinds from REQUIRED on must be present. */
const STRING = 0;
const COUNT = 1; // a non-negative safe integer
const STRINGS = 2; // an array of strings
const MAP = 3; // an object of strings (a Go map: sorted when written)
const OBJECT = 4;
const OBJECTS = 5; // an array of objects
const REQUIRED = 6; // a string that must be present
const NON_EMPTY = 7; // a string that must be present and not ""
const TIMESTAMP = 8; // an RFC 3339 string that must be present
const REQUIRED_OBJECT = 9;

/** `[key, kind (default STRING), the fields of a nested object]`. */
type Field = readonly [key: string, kind?: number, fields?: Fields];
type Fields = readonly Field[];

const PLATFORM: Fields = [
  ["architecture", REQUIRED],
  ["os", REQUIRED],
  ["os.version"],
  ["os.features", STRINGS],
  ["variant"],
  ["features", STRINGS],
];
const DESCRIPTOR: Fields = [
  ["mediaType"],
  ["size", COUNT],
  ["digest"],
  ["urls", STRINGS],
  ["annotations", MAP],
  ["data"],
  ["platform", OBJECT, PLATFORM],
  ["artifactType"],
];
const EVENT: Fields = [
  ["id", NON_EMPTY],
  ["timestamp", TIMESTAMP],
  ["action", NON_EMPTY],
  [
    "target",
    REQUIRED_OBJECT,
    [
      ...DESCRIPTOR,
      ["length", COUNT],
      ["repository", NON_EMPTY],
      ["fromRepository"],
      ["url"],
      ["tag"],
      ["references", OBJECTS, DESCRIPTOR],
    ],
  ],
  ["request", OBJECT, [["id"], ["addr"], ["host"], ["method"], ["useragent"]]],
  ["actor", OBJECT, [["name"]]],
  ["source", OBJECT, [["addr"], ["instanceID"]]],
];

// ---------------------------------------------------------------------------------------------
// Body decoding

const MAX_ISSUES = 50;
const STRICT_UTF8 = { fatal: true, ignoreBOM: false };
let utf8: TextDecoder | undefined;

function bytesOf(body: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // toString tag instead of instanceof: buffers may come from another realm (iframe, vm).
  if (Object.prototype.toString.call(body) === "[object ArrayBuffer]") {
    return new Uint8Array(body as ArrayBuffer);
  }
  return undefined;
}

/** Byte offset where the first malformed UTF-8 sequence starts (WHATWG decoder rules). */
function invalidUtf8At(bytes: Uint8Array): number {
  // The shortest prefix a streaming fatal decoder rejects ends at the first offending byte.
  let bad = 0;
  for (let high = bytes.length; bad < high; ) {
    const mid = (bad + high) >> 1;
    try {
      new TextDecoder("utf-8", STRICT_UTF8).decode(bytes.subarray(0, mid + 1), {
        stream: true,
      });
      bad = mid + 1;
    } catch {
      high = mid;
    }
  }
  // When it interrupts a sequence (or the input ends inside one), the sequence is what is bad.
  let lead = bad - 1;
  while (bad - lead < 4 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  const first = bytes[lead] as number;
  const length = first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : first >= 0xc0 ? 1 : 0;
  return bad - lead <= length ? lead : bad;
}

/**
 * The body as text, or an issue. A leading UTF-8 BOM is dropped (the decoder's default): RFC 8259
 * §8.1 allows a parser to ignore it. Go's decoder rejects it, but distribution never writes one
 * and the rest of the body is unambiguous, so refusing it would only lose events.
 */
function textOf(bytes: Uint8Array): string | EnvelopeIssue {
  utf8 ??= new TextDecoder("utf-8", STRICT_UTF8);
  try {
    return utf8.decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    return { path: "", message: `body is not valid UTF-8 (malformed sequence at byte ${at})` };
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: the rules of schema.ts, in place, collecting every issue with its path.

type JsonObject = Record<string, unknown>;

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function add(issues: EnvelopeIssue[], path: string, message: string): void {
  if (issues.length < MAX_ISSUES) issues.push({ path, message });
}

/** What the message of a size limit issue says: what `EnvelopeError.tooLarge` looks for. */
const SIZE_LIMIT = / over MAX_EVENT_/;

/** Validation state: the issues, and what the event being checked adds up to so far. */
interface Check {
  issues: EnvelopeIssue[];
  /**
   * An upper bound of the event's encoded size: 6 bytes per character of its strings and map
   * keys, MEMBER bytes per member; Infinity once an object has a key the table does not know.
   */
  bound: number;
}

/** What a member of a known field adds at most besides characters (they nest 8 levels at most). */
const MEMBER = memberBytes(8);

// Paths are only built when there is something to report.
function checkFields(object: JsonObject, fields: Fields, path: string, check: Check) {
  let present = 0;
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f] as Field;
    const key = field[0];
    const kind = field[1] ?? STRING;
    const value = object[key];
    if (value === undefined) {
      if (kind >= REQUIRED) add(check.issues, child(path, key), "is required");
      continue;
    }
    present++;
    // Most fields are present strings: settle those without a call.
    if (typeof value === "string") {
      check.bound += 6 * value.length;
      if (kind === STRING || kind === REQUIRED) continue;
    }
    checkValue(value, kind, field[2], path, key, check);
  }
  check.bound += MEMBER * present;
  // Keys beyond the known ones (unknown fields are kept): only a walk can size them.
  for (const _key in object) present--;
  if (present !== 0) check.bound = Infinity;
}

/**
 * Checks `value`, found at `key` of `base` (array items included: `undefined` is wrong there).
 * Paths are built only to report or to descend; keys of the table that have nested fields are
 * identifiers below the root, so a plain `join` is their path.
 */
function checkValue(
  value: unknown,
  kind: number,
  fields: Fields | undefined,
  base: string,
  key: string | number,
  check: Check,
): void {
  let wanted: string | undefined;
  let problem: string | undefined;
  if (kind === COUNT) {
    if (Number.isSafeInteger(value) && (value as number) >= 0) return;
    if (typeof value !== "number") wanted = "a number";
    else if (Number.isSafeInteger(value)) problem = `must not be negative, got ${value}`;
    else problem = `must be an integer below 2^53, got ${value}`;
  } else if (kind === STRINGS || kind === OBJECTS) {
    if (Array.isArray(value)) {
      check.bound += MEMBER * value.length;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (kind === OBJECTS) checkValue(item, OBJECT, fields, join(base, key), i, check);
        else if (typeof item === "string") check.bound += 6 * item.length;
        else checkValue(item, STRING, fields, child(base, key), i, check);
      }
      return;
    }
    // Only `target.references` is an array of objects here (the root has its own messages).
    wanted = kind === STRINGS ? "an array of strings" : "an array of descriptors";
  } else if (kind === MAP || kind === OBJECT || kind === REQUIRED_OBJECT) {
    if (isObject(value)) {
      if (fields) checkFields(value, fields, join(base, key), check);
      else {
        for (const name in value) {
          const item = value[name];
          check.bound += MEMBER + 6 * name.length;
          if (typeof item === "string") check.bound += 6 * item.length;
          else checkValue(item, STRING, fields, child(base, key), name, check);
        }
      }
      return;
    }
    wanted = "an object";
  } else if (typeof value !== "string") wanted = "a string";
  else if (kind === NON_EMPTY && value === "") problem = "must not be empty";
  else if (kind === TIMESTAMP && !isTimestamp(value)) {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    problem = `must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z, got ${shown}`;
  }
  if (wanted) problem = `must be ${wanted}, got ${kindOf(value)}`;
  if (problem) add(check.issues, child(base, key), problem);
}

let eventWriter: Writer | undefined;

/** The fields the relay keys and stores in columns of their own: bounded apart from the event. */
function checkKeyBytes(issues: EnvelopeIssue[], path: string, value: unknown): void {
  if (typeof value !== "string" || value.length * 3 <= MAX_EVENT_KEY_BYTES) return;
  const bytes = utf8Length(value);
  if (bytes > MAX_EVENT_KEY_BYTES) {
    add(issues, path, `is ${bytes} bytes long, over MAX_EVENT_KEY_BYTES (${MAX_EVENT_KEY_BYTES})`);
  }
}

/**
 * The limits of a valid event (see limits.ts). An event of known fields only, whose
 * size bound fits, needs nothing more; any other is walked, and encoded when the walk's bound
 * does not fit.
 */
function checkLimits(event: JsonObject, index: number, check: Check): void {
  const { issues } = check;
  const path = `events[${index}]`;
  checkKeyBytes(issues, `${path}.id`, event.id);
  checkKeyBytes(issues, `${path}.action`, event.action);
  checkKeyBytes(issues, `${path}.target.repository`, (event.target as JsonObject).repository);
  if (check.bound <= MAX_EVENT_BYTES) return;
  const { issue, upper } = measure(event, 3, path);
  if (issue) add(issues, issue.path, issue.message);
  else if (upper > MAX_EVENT_BYTES) {
    // As encodeEnvelope writes it inside the envelope (depth 2), on the longer v2 line.
    eventWriter ??= shaped(EVENT, true);
    const bytes = utf8Length(eventWriter(event, 2));
    if (bytes > MAX_EVENT_BYTES) {
      add(issues, path, `encodes to ${bytes} bytes, over MAX_EVENT_BYTES (${MAX_EVENT_BYTES})`);
    }
  }
}

function checkEnvelope(value: unknown, issues: EnvelopeIssue[]): void {
  const events = isObject(value) ? value.events : undefined;
  if (!isObject(value)) {
    add(issues, "", `must be a JSON object with an "events" array, got ${kindOf(value)}`);
    return;
  }
  if (!Array.isArray(events)) {
    const problem = events === undefined ? "is required (an array of events)" : "";
    add(issues, "events", problem || `must be an array, got ${kindOf(events)}`);
  } else {
    const check: Check = { issues, bound: 0 };
    for (let i = 0; i < events.length; i++) {
      const before = issues.length;
      check.bound = MEMBER; // the event's own braces
      checkValue(events[i], OBJECT, EVENT, "events", i, check);
      if (issues.length === before && before < MAX_ISSUES) {
        checkLimits(events[i] as JsonObject, i, check);
      }
    }
  }
  // Fields of the envelope besides "events": kept and written back, so depth and numbers matter.
  let keys = 0;
  for (const _key in value) keys++;
  if (keys > 1) {
    const { issue } = measure(value, 1, "", "events");
    if (issue) add(issues, issue.path, issue.message);
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
 * Limits, so that every accepted envelope can be stored and encoded (`encodeEnvelope`, either
 * line) and re-encodes to the same bytes, each refused with the path of the value at fault:
 * nesting up to `MAX_JSON_DEPTH` (64) levels, the envelope being level 1; each event at most
 * `MAX_EVENT_BYTES` (1 MiB) as encoded on the v2 line; ids of at most `MAX_EVENT_KEY_BYTES`
 * (1024) UTF-8 bytes; finite numbers (`1e400` is refused); one `"events"` key (JSON.parse would
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
  try {
    let value = body;
    let text: string | EnvelopeIssue | undefined;
    if (typeof body === "string") text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
    else {
      const bytes = bytesOf(body);
      if (bytes !== undefined) text = textOf(bytes);
    }
    if (typeof text === "object") return { success: false, issues: [text] };
    if (text !== undefined) {
      const escaped = text.includes("\\");
      // Decoded bytes never hold a lone surrogate; a string or an escape may.
      if (escaped || typeof body === "string") text = wellFormed(text, escaped);
      try {
        value = JSON.parse(text);
      } catch (error) {
        return { success: false, issues: [jsonIssue(text, error)] };
      }
      const duplicate = duplicateEventsIssue(text, escaped);
      if (duplicate) return { success: false, issues: [duplicate] };
    }
    const issues: EnvelopeIssue[] = [];
    checkEnvelope(value, issues);
    if (issues.length === 0) return { success: true, envelope: value as Envelope };
    return { success: false, issues };
  } catch (error) {
    // Only exotic inputs get here (a getter or proxy that throws, an engine out of stack or
    // memory): still an answer, not a throw.
    let shown = "an exception";
    try {
      shown = String(error);
    } catch {}
    return { success: false, issues: [{ path: "", message: `could not be read: ${shown}` }] };
  }
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

// ---------------------------------------------------------------------------------------------
// Encoding: Go's encoding/json with MarshalIndent(v, "", "   ").

/**
 * Options of `encodeEnvelope`.
 *
 * @example
 * ```ts
 * import { EventsMediaTypeV2, type EncodeEnvelopeOptions } from "registry-relay";
 * const options: EncodeEnvelopeOptions = { mediaType: EventsMediaTypeV2 };
 * ```
 */
export interface EncodeEnvelopeOptions {
  /** The wire line: `EventsMediaType` (2.x, default) or `EventsMediaTypeV2` (3.x). */
  mediaType?: EnvelopeMediaType;
}

/** Characters Go escapes: `"`, `\\`, controls, `<`, `>`, `&`, U+2028/9; and lone surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;
/**
 * Where `JSON.stringify` differs from Go: `\b`, `\f`, lone surrogates, raw `<>&` and U+2028/9.
 * An escaped backslash (`\\`) is matched whole, so it is never read as a new escape; the
 * escapes Go writes alike (`\n`, `\"`, `\u001f`…) cost no call.
 */
const UNLIKE_GO = /\\(?:ud[89a-f]..|[bf\\])|[<>&\u2028\u2029]/g;

/**
 * Go's escapes. Go ≤ 1.21 (distribution 2.x) writes \b and \f as \u0008 and \u000c. A lookup
 * table, since a 1 MB string of "<" makes a million calls.
 */
const GO_ESCAPES: Record<string, string> = {
  "\\b": "\\u0008",
  "\\f": "\\u000c",
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

// Invalid UTF-16 (a lone surrogate) as U+FFFD, as Go writes invalid UTF-8.
const goEscape = (match: string): string =>
  match.length > 2 ? "\\ufffd" : (GO_ESCAPES[match] ?? match);

function quote(value: string): string {
  return NEEDS_ESCAPE.test(value)
    ? JSON.stringify(value).replace(UNLIKE_GO, goEscape)
    : `"${value}"`;
}

class EncodeFailure extends Error {}

const indents: string[] = ["\n"];
const newline = (depth: number): string => {
  for (let d = indents.length; d <= depth; d++) indents.push(`${indents[d - 1]}   `);
  return indents[depth] as string;
};

/** Writes one value; `depth` is its nesting level (its members go at depth + 1). */
type Writer = (value: unknown, depth: number) => string;

/** How a known object is written: its keys in Go's struct order and how to write each value. */
interface Shape {
  keys: readonly string[];
  quoted: readonly string[];
  known: ReadonlySet<string>;
  /** How to write the value of `keys[k]` (undefined: any JSON value). */
  writers: readonly (Writer | undefined)[];
  /** The Go zero value written when `keys[k]` is absent, for v3's always-present keys. */
  zeros: readonly (string | undefined)[];
}

const shape = (
  keys: string[],
  writers: (Writer | undefined)[] = [],
  zeros: (string | undefined)[] = [],
): Shape => ({
  keys,
  quoted: keys.map((key) => `${quote(key)}: `),
  known: new Set(keys),
  writers,
  zeros,
});

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new EncodeFailure(`${value} is not a JSON number`);
  // JavaScript's shortest round-trip form matches Go's float64 encoding (same 1e21 and 1e-6
  // exponent cut-offs); only negative zero differs.
  return value === 0 && 1 / value < 0 ? "-0" : String(value);
}

/** Any JSON value: unknown fields keep their own key order. */
function writeAny(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      return numberText(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (depth > 1000) throw new EncodeFailure("nesting is too deep (a cycle?)");
      if (Array.isArray(value)) return writeArray(value, depth, writeAny);
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return writeAny((value as { toJSON(): unknown }).toJSON(), depth);
      }
      return writeObject(value as JsonObject, depth);
    default:
      throw new EncodeFailure(`a ${typeof value} cannot be written as JSON`);
  }
}

function writeArray(items: readonly unknown[], depth: number, item: Writer): string {
  if (items.length === 0) return "[]";
  const inner = newline(depth + 1);
  let out = "[";
  for (let i = 0; i < items.length; i++) {
    const value = items[i];
    out += `${i === 0 ? "" : ","}${inner}${value === undefined ? "null" : item(value, depth + 1)}`;
  }
  return `${out}${newline(depth)}]`;
}

function writeObject(object: JsonObject, depth: number, known?: Shape): string {
  const inner = newline(depth + 1);
  let out = "{";
  let separator = "";
  if (known !== undefined) {
    const { keys, quoted, writers, zeros } = known;
    for (let k = 0; k < keys.length; k++) {
      const value = object[keys[k] as string];
      const text = value === undefined ? zeros[k] : (writers[k] ?? writeAny)(value, depth + 1);
      if (text === undefined) continue;
      out += separator + inner + quoted[k] + text;
      separator = ",";
    }
  }
  for (const key in object) {
    if (known?.known.has(key) || !Object.hasOwn(object, key)) continue;
    const value = object[key];
    if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
    out += `${separator}${inner}${quote(key)}: ${writeAny(value, depth + 1)}`;
    separator = ",";
  }
  return separator === "" ? "{}" : `${out}${newline(depth)}}`;
}

/** UTF-8 byte order (Go sorts map keys by bytes); plain `<` compares UTF-16 units. */
function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points ≥ U+10000) sort after U+E000–U+FFFF in UTF-8.
    if (x >= 0xd800) x += x <= 0xdfff ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y <= 0xdfff ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Go `map[string]string`: keys sorted. */
const writeMap: Writer = (value, depth) =>
  isObject(value)
    ? writeObject(value, depth, shape(Object.keys(value).sort(compareKeys)))
    : writeAny(value, depth);

/** v3's OCI descriptor writes `mediaType, digest, size` first, always. */
const leading = (key: string): number => ["mediaType", "digest", "size"].indexOf(key) >>> 0;

/** The writer of an object with these fields on one wire line. */
function shaped(fields: Fields, v2: boolean): Writer {
  const line = v2
    ? [...fields].sort((a, b) => leading(a[0]) - leading(b[0]))
    : fields.filter(([key]) => key !== "data" && key !== "artifactType"); // 2.x has neither
  const known = shape(
    line.map(([key]) => key),
    line.map(([, kind, inner]) => {
      if (kind === MAP) return writeMap;
      if (inner === undefined) return undefined;
      const write = shaped(inner, v2);
      if (kind !== OBJECTS) return write;
      return (value, depth) =>
        Array.isArray(value) ? writeArray(value, depth, write) : writeAny(value, depth);
    }),
    line.map(([key]) => (v2 && leading(key) < 3 ? (key === "size" ? "0" : '""') : undefined)),
  );
  return (value, depth) =>
    isObject(value) ? writeObject(value, depth, known) : writeAny(value, depth);
}

const lines: Writer[] = [];

/**
 * Writes an envelope byte for byte as distribution does (Go `json.MarshalIndent(envelope, "",
 * "   ")`): three-space indentation, no trailing newline, Go's string escaping (`<`, `>`, `&`,
 * U+2028, U+2029 and controls as `\u00XX`) and the key order of the chosen line:
 *
 * - v1 (`EventsMediaType`, default; distribution 2.x): target `mediaType, size, digest, urls,
 *   annotations, platform, length, repository, fromRepository, url, tag, references`.
 * - v2 (`EventsMediaTypeV2`; 3.x): `mediaType, digest, size` first and always written (`""`/`0`
 *   when absent), then `urls, annotations, data, platform, artifactType, length, …`; the same
 *   rule applies to `references` entries.
 *
 * Every other key is written when it is present (not `undefined`): the object decides what is
 * there, as distribution's `omitempty` did when it built the event. Unknown keys follow the known
 * ones in their own order; `annotations` are sorted like a Go map. So a parsed distribution
 * envelope re-encodes to the same bytes.
 *
 * @throws TypeError naming the path of a value JSON cannot hold (NaN, a function, a bigint…).
 * @example
 * ```ts
 * import { encodeEnvelope, EventsMediaTypeV2, parseEnvelope } from "registry-relay";
 * const body = encodeEnvelope(parseEnvelope(text)); // === text for a distribution 2.x body
 * const v3 = encodeEnvelope({ events }, { mediaType: EventsMediaTypeV2 });
 * ```
 */
export function encodeEnvelope(envelope: Envelope, options: EncodeEnvelopeOptions = {}): string {
  const v2 = options.mediaType === EventsMediaTypeV2;
  lines[+v2] ??= shaped([["events", OBJECTS, EVENT]], v2);
  const write = lines[+v2] as Writer;
  try {
    return write(envelope, 0);
  } catch (error) {
    if (!(error instanceof EncodeFailure)) throw error;
    // The first value that cannot be written, or the first level past the writer's 1000.
    const at = measure(envelope, 0, "", undefined, 1000).issue?.path;
    throw new TypeError(`encodeEnvelope: ${at ? `${at}: ` : ""}${error.message}`);
  }
}

// Encoding: Go's encoding/json with MarshalIndent(v, "", "   "), as distribution writes an
// envelope, by a direct string builder driven by the field table (fields.ts).

import type { EnvelopeMediaType } from "./constants.ts";
import { EventsMediaTypeV2 } from "./constants.ts";
import { EVENT, type Fields, isObject, type JsonObject, MAP, OBJECTS } from "./fields.ts";
import { child } from "./limits.ts";
import type { Envelope } from "./schema.ts";

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

/** A value JSON cannot hold; `keys` is its path, filled in as the writers unwind. */
class EncodeFailure extends Error {
  keys: (string | number)[] = [];
}

/** `error` with `key` put in front of its path, when it is an EncodeFailure. */
const at = (error: unknown, key: string | number): unknown => {
  if (error instanceof EncodeFailure) error.keys.unshift(key);
  return error;
};

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
  let i = 0;
  try {
    for (; i < items.length; i++) {
      const value = items[i];
      out += `${i === 0 ? "" : ","}${inner}${value === undefined ? "null" : item(value, depth + 1)}`;
    }
  } catch (error) {
    throw at(error, i);
  }
  return `${out}${newline(depth)}]`;
}

function writeObject(object: JsonObject, depth: number, known?: Shape): string {
  const inner = newline(depth + 1);
  let out = "{";
  let separator = "";
  let current = ""; // the key being written, for the path of a failure
  try {
    if (known !== undefined) {
      const { keys, quoted, writers, zeros } = known;
      for (let k = 0; k < keys.length; k++) {
        current = keys[k] as string;
        const value = object[current];
        const text = value === undefined ? zeros[k] : (writers[k] ?? writeAny)(value, depth + 1);
        if (text === undefined) continue;
        out += separator + inner + quoted[k] + text;
        separator = ",";
      }
    }
    for (const key in object) {
      if (known?.known.has(key) || !Object.hasOwn(object, key)) continue;
      current = key;
      const value = object[key];
      if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
      out += `${separator}${inner}${quote(key)}: ${writeAny(value, depth + 1)}`;
      separator = ",";
    }
  } catch (error) {
    throw at(error, current);
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
    throw failure(error, "");
  }
}

const eventLines: Writer[] = [];

/**
 * One event as {@link encodeEnvelope} writes it inside an envelope: from its `{` to its `}`,
 * indented for its place in the `events` array, on the line of `mediaType`. Throws as
 * encodeEnvelope does; `path` is where the event is (`events[0]`) in the message.
 */
export function encodeEvent(event: unknown, mediaType?: string, path = "events[0]"): string {
  const v2 = mediaType === EventsMediaTypeV2;
  eventLines[+v2] ??= shaped(EVENT, v2);
  const write = eventLines[+v2] as Writer;
  try {
    return write(event, 2);
  } catch (error) {
    throw failure(error, path);
  }
}

/** What a writer threw for the value at `path`: a TypeError naming the path of the value at
 * fault, or the error itself when it is not an encoding failure. */
function failure(error: unknown, path: string): unknown {
  if (!(error instanceof EncodeFailure)) return error;
  const where = error.keys.reduce(child, path);
  return new TypeError(`encodeEnvelope: ${where ? `${where}: ` : ""}${error.message}`);
}

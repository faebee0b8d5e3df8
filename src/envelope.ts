// Reading and writing the notification envelope exactly as distribution does.
//
// Parsing validates the JSON value in place in one pass (no copy), with the rules of schema.ts:
// valibot alone costs about as much as JSON.parse on real envelopes, which would halve receive
// throughput. test/core/envelope.test.ts checks that this pass and `EnvelopeSchema` agree.
// Encoding is a direct string builder reproducing Go's `json.MarshalIndent(env, "", "   ")`.

import type { EnvelopeMediaType } from "./constants.ts";
import { EventsMediaTypeV2 } from "./constants.ts";
import { isTimestamp } from "./ids.ts";
import type { Envelope } from "./schema.ts";

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
 * problem (up to 50) with its path; the message repeats the first ones.
 *
 * @example
 * ```ts
 * import { EnvelopeError, parseEnvelope } from "registry-relay";
 * try {
 *   parseEnvelope('{"events":[{}]}');
 * } catch (error) {
 *   if (error instanceof EnvelopeError) console.log(error.issues[0]); // { path: "events[0].id", message: "is required" }
 * }
 * ```
 */
export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
  readonly issues: EnvelopeIssue[];

  constructor(issues: EnvelopeIssue[]) {
    const shown = issues
      .slice(0, 3)
      .map((issue) => (issue.path ? `${issue.path}: ` : "") + issue.message);
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
    super(`invalid envelope: ${shown.join("; ")}${more}`);
    this.issues = issues;
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
// JSON syntax errors: engines word (and place) them differently, so locate them ourselves.

const SPACE = /[ \t\n\r]*/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it stops at.
const STRING_PREFIX = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*/y;
const DIGITS = /\d+/y;
const LITERAL = /true|false|null/y;

/** Where and why `text` is not JSON (RFC 8259), or undefined if it is. Iterative: no recursion. */
function findJsonSyntaxError(text: string): { at: number; reason: string } | undefined {
  const closers: string[] = []; // "}" or "]" for each open container
  let i = 0;
  /** Moves past what `pattern` matches at `i`, if it does. */
  const skip = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    const matched = pattern.test(text);
    if (matched) i = pattern.lastIndex;
    return matched;
  };
  const found = (): string =>
    i < text.length ? `character ${JSON.stringify(text[i])}` : "end of input";
  const string = (): string | undefined => {
    const start = i;
    skip(STRING_PREFIX);
    const c = text[i];
    if (c === '"') {
      i++;
      return undefined;
    }
    if (c === "\\" && text[i + 1] === "u") return "\\u must be followed by 4 hex digits";
    if (c === "\\" && i + 1 < text.length) return `invalid escape \\${text[i + 1]}`;
    if (c !== undefined && c !== "\\") return "control character in string (must be escaped)";
    i = start;
    return "unterminated string";
  };
  /** A member's key and colon; `first`: right after `{`. */
  const key = (first: boolean): string | undefined => {
    skip(SPACE);
    if (text[i] !== '"') return `expected a string key${first ? " or '}'" : ""}, found ${found()}`;
    const problem = string();
    if (problem) return problem;
    skip(SPACE);
    if (text[i] !== ":") return `expected ':' after an object key, found ${found()}`;
    i++;
    return undefined;
  };
  const digits = (where: string): string | undefined =>
    skip(DIGITS) ? undefined : `expected a digit${where}, found ${found()}`;
  for (;;) {
    // A value is expected at i.
    skip(SPACE);
    const c = text[i];
    let problem: string | undefined;
    if (c === "{" || c === "[") {
      i++;
      skip(SPACE);
      const close = c === "{" ? "}" : "]";
      if (text[i] === close) i++;
      else {
        closers.push(close);
        if (c === "[") continue;
        problem = key(true);
        if (!problem) continue;
      }
    } else if (c === '"') problem = string();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else problem = digits("");
      if (!problem && text[i] === ".") {
        i++;
        problem = digits(" after '.'");
      }
      if (!problem && (text[i] === "e" || text[i] === "E")) {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        problem = digits(" in the exponent");
      }
    } else if (!skip(LITERAL)) problem = `expected a JSON value, found ${found()}`;
    // After a value: close containers or move to the next member.
    while (!problem) {
      skip(SPACE);
      const close = closers[closers.length - 1];
      if (close === undefined) {
        if (i < text.length) problem = `unexpected ${found()} after the JSON value`;
        else return undefined;
      } else if (text[i] === close) {
        closers.pop();
        i++;
      } else if (text[i] !== ",") problem = `expected ',' or '${close}', found ${found()}`;
      else {
        i++;
        if (close === "]") break;
        problem = key(false);
        if (!problem) break;
      }
    }
    if (problem) return { at: i, reason: problem };
  }
}

function jsonIssue(text: string, error: unknown): EnvelopeIssue {
  if (text.trim() === "") return { path: "", message: "body is empty" };
  const found = findJsonSyntaxError(text);
  let reason = `${(error as Error)?.message ?? error}`;
  if (found !== undefined) {
    const lines = text.slice(0, found.at).split("\n");
    const column = (lines[lines.length - 1] as string).length + 1;
    reason = `${found.reason} (line ${lines.length}, column ${column}, position ${found.at})`;
  }
  return { path: "", message: `body is not valid JSON: ${reason}` };
}

// ---------------------------------------------------------------------------------------------
// Validation: the rules of schema.ts, in place, collecting every issue with its path.

type JsonObject = Record<string, unknown>;

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** `key` (a property or an array index) inside `base`, for keys known to be identifiers. */
const join = (base: string, key: string | number): string =>
  typeof key === "number" ? `${base}[${key}]` : `${base}.${key}`;
/** The path of `key` (a property or an array index) inside `base`. */
const child = (base: string, key: string | number): string =>
  typeof key === "string" && !IDENTIFIER.test(key)
    ? `${base}[${JSON.stringify(key)}]`
    : base
      ? join(base, key)
      : `${key}`;

function add(issues: EnvelopeIssue[], path: string, message: string): void {
  if (issues.length < MAX_ISSUES) issues.push({ path, message });
}

// Paths are only built when there is something to report.
function checkFields(object: JsonObject, fields: Fields, path: string, issues: EnvelopeIssue[]) {
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f] as Field;
    const key = field[0];
    const kind = field[1] ?? STRING;
    const value = object[key];
    // Most fields are present strings: settle those without a call.
    if (typeof value === "string" && (kind === STRING || kind === REQUIRED)) continue;
    if (value !== undefined) checkValue(value, kind, field[2], path, key, issues);
    else if (kind >= REQUIRED) add(issues, child(path, key), "is required");
  }
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
  issues: EnvelopeIssue[],
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
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (kind === OBJECTS) checkValue(item, OBJECT, fields, join(base, key), i, issues);
        else if (typeof item !== "string")
          checkValue(item, STRING, fields, child(base, key), i, issues);
      }
      return;
    }
    // Only `target.references` is an array of objects here (the root has its own messages).
    wanted = kind === STRINGS ? "an array of strings" : "an array of descriptors";
  } else if (kind === MAP || kind === OBJECT || kind === REQUIRED_OBJECT) {
    if (isObject(value)) {
      if (fields) checkFields(value, fields, join(base, key), issues);
      else {
        for (const name in value) {
          const item = value[name];
          if (typeof item !== "string")
            checkValue(item, STRING, fields, child(base, key), name, issues);
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
  if (problem) add(issues, child(base, key), problem);
}

function checkEnvelope(value: unknown, issues: EnvelopeIssue[]): void {
  const events = isObject(value) ? value.events : undefined;
  if (!isObject(value)) {
    add(issues, "", `must be a JSON object with an "events" array, got ${kindOf(value)}`);
  } else if (!Array.isArray(events)) {
    const problem = events === undefined ? "is required (an array of events)" : "";
    add(issues, "events", problem || `must be an array, got ${kindOf(events)}`);
  } else {
    for (let i = 0; i < events.length; i++)
      checkValue(events[i], OBJECT, EVENT, "events", i, issues);
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
      try {
        value = JSON.parse(text);
      } catch (error) {
        return { success: false, issues: [jsonIssue(text, error)] };
      }
    }
    const issues: EnvelopeIssue[] = [];
    checkEnvelope(value, issues);
    if (issues.length === 0) return { success: true, envelope: value as Envelope };
    return { success: false, issues };
  } catch (error) {
    // Only exotic inputs get here (a getter or proxy that throws): still an answer, not a throw.
    return {
      success: false,
      issues: [{ path: "", message: `could not be read: ${String(error)}` }],
    };
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
 * Every escape is matched whole (`\\.`), so an escaped backslash is never read as a new escape.
 */
const UNLIKE_GO = /\\(?:ud[89a-f]..|.)|[<>&\u2028\u2029]/g;

function goEscape(match: string): string {
  // Go ≤ 1.21 (distribution 2.x) writes \b and \f as \u0008 and \u000c; invalid UTF-16 as U+FFFD.
  if (match.length > 2) return "\\ufffd";
  const code =
    match === "\\b" ? 8 : match === "\\f" ? 12 : match.length === 1 ? match.charCodeAt(0) : 0;
  return code ? `\\u${code.toString(16).padStart(4, "0")}` : match;
}

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

/** The path of the first value that cannot be written, for the error message. */
function locate(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : path;
  if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol")
    return path;
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > 1000) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = locate(value[i], child(path, i), depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const object = value as JsonObject;
  for (const key in object) {
    const item = object[key];
    if (!Object.hasOwn(object, key) || typeof item === "function" || typeof item === "symbol")
      continue;
    const found = locate(item, child(path, key), depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

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
    const at = locate(envelope, "", 0);
    throw new TypeError(`encodeEnvelope: ${at ? `${at}: ` : ""}${error.message}`);
  }
}

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
// Body decoding

const MAX_ISSUES = 50;
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

/** Byte offset of the first malformed UTF-8 sequence (WHATWG decoder rules). */
function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    let need = 0;
    let low = 0x80;
    let high = 0xbf;
    if (lead < 0x80) {
      i++;
      continue;
    }
    if (lead >= 0xc2 && lead <= 0xdf) need = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      need = 2;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      need = 3;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < low || next > high) return i;
      low = 0x80;
      high = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * The body as text, or an issue. A leading UTF-8 BOM is dropped (the decoder's default): RFC 8259
 * §8.1 allows a parser to ignore it. Go's decoder rejects it, but distribution never writes one
 * and the rest of the body is unambiguous, so refusing it would only lose events.
 */
function textOf(bytes: Uint8Array): string | EnvelopeIssue {
  utf8 ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  try {
    return utf8.decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    const where = at >= 0 ? ` (malformed sequence at byte ${at})` : "";
    return { path: "", message: `body is not valid UTF-8${where}` };
  }
}

// ---------------------------------------------------------------------------------------------
// JSON syntax errors: engines word (and place) them differently, so locate them ourselves.

const describeChar = (text: string, i: number): string =>
  i >= text.length ? "end of input" : `character ${JSON.stringify(text[i])}`;

/** Where and why `text` is not JSON (RFC 8259), or undefined if it is. Iterative: no recursion. */
function findJsonSyntaxError(text: string): { at: number; reason: string } | undefined {
  const n = text.length;
  const stack: number[] = []; // 1 = object, 0 = array
  let i = 0;
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; ) {
      c = text.charCodeAt(++i);
    }
  };
  const string = (): string | undefined => {
    const start = i++;
    for (;;) {
      const c = text.charCodeAt(i);
      if (i >= n) {
        i = start;
        return "unterminated string";
      }
      if (c === 34) {
        i++;
        return undefined;
      }
      if (c < 0x20) return "control character in string (must be escaped)";
      if (c === 92) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            return "\\u must be followed by 4 hex digits";
          }
          i += 6;
        } else if (e === undefined) {
          i = start;
          return "unterminated string";
        } else if ('"\\/bfnrt'.includes(e)) i += 2;
        else {
          return `invalid escape \\${e}`;
        }
      } else i++;
    }
  };
  const digits = (): boolean => {
    const start = i;
    while (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    return i > start;
  };
  for (;;) {
    // A value is expected at i.
    ws();
    const c = text[i];
    let problem: string | undefined;
    if (c === "{" || c === "[") {
      i++;
      ws();
      if (c === "{") {
        if (text[i] === "}") i++;
        else {
          stack.push(1);
          if (text[i] !== '"')
            return {
              at: i,
              reason: `expected a string key or '}', found ${describeChar(text, i)}`,
            };
          problem = string();
          if (problem) return { at: i, reason: problem };
          ws();
          if (text[i] !== ":")
            return {
              at: i,
              reason: `expected ':' after an object key, found ${describeChar(text, i)}`,
            };
          i++;
          continue;
        }
      } else if (text[i] === "]") i++;
      else {
        stack.push(0);
        continue;
      }
    } else if (c === '"') {
      problem = string();
    } else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else if (!digits()) problem = `expected a digit, found ${describeChar(text, i)}`;
      if (!problem && text[i] === ".") {
        i++;
        if (!digits()) problem = `expected a digit after '.', found ${describeChar(text, i)}`;
      }
      if (!problem && (text[i] === "e" || text[i] === "E")) {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        if (!digits()) problem = `expected a digit in the exponent, found ${describeChar(text, i)}`;
      }
    } else {
      const word = c === "t" ? "true" : c === "f" ? "false" : c === "n" ? "null" : undefined;
      if (word !== undefined && text.startsWith(word, i)) i += word.length;
      else problem = `expected a JSON value, found ${describeChar(text, i)}`;
    }
    if (problem) return { at: i, reason: problem };
    // After a value: close containers or move to the next member.
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return i < n
          ? { at: i, reason: `unexpected ${describeChar(text, i)} after the JSON value` }
          : undefined;
      }
      const close = top === 1 ? "}" : "]";
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ",") {
        return { at: i, reason: `expected ',' or '${close}', found ${describeChar(text, i)}` };
      }
      i++;
      if (top === 1) {
        ws();
        if (text[i] !== '"')
          return { at: i, reason: `expected a string key, found ${describeChar(text, i)}` };
        problem = string();
        if (problem) return { at: i, reason: problem };
        ws();
        if (text[i] !== ":")
          return {
            at: i,
            reason: `expected ':' after an object key, found ${describeChar(text, i)}`,
          };
        i++;
      }
      break;
    }
  }
}

function jsonIssue(text: string, error: unknown): EnvelopeIssue {
  if (text.trim() === "") return { path: "", message: "body is empty" };
  const found = findJsonSyntaxError(text);
  if (found === undefined) {
    return { path: "", message: `body is not valid JSON: ${(error as Error)?.message ?? error}` };
  }
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf("\n"); k !== -1 && k < found.at; k = text.indexOf("\n", k + 1)) {
    line++;
    lineStart = k + 1;
  }
  const where = `line ${line}, column ${found.at - lineStart + 1}, position ${found.at}`;
  return { path: "", message: `body is not valid JSON: ${found.reason} (${where})` };
}

// ---------------------------------------------------------------------------------------------
// Validation: the rules of schema.ts, in place, collecting every issue with its path.

type JsonObject = Record<string, unknown>;

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const child = (base: string, key: string): string =>
  IDENTIFIER.test(key) ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(key)}]`;

/** `required`: 0 optional, 1 required, 2 required and non-empty. */
type Need = 0 | 1 | 2;

// Values are read with named property loads at the call sites (fast, monomorphic) and paths are
// only built when there is something to report.
class Checker {
  readonly issues: EnvelopeIssue[] = [];

  add(path: string, message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ path, message });
  }

  /** Reports `value` unless it is an object; true if it is one. */
  object(value: unknown, base: string, key: string, need: Need): value is JsonObject {
    if (isObject(value)) return true;
    if (value !== undefined) this.add(child(base, key), `must be an object, got ${kindOf(value)}`);
    else if (need) this.add(child(base, key), "is required");
    return false;
  }

  string(value: unknown, base: string, key: string, need: Need = 0): void {
    if (typeof value === "string") {
      if (need === 2 && value === "") this.add(child(base, key), "must not be empty");
    } else if (value !== undefined) {
      this.add(child(base, key), `must be a string, got ${kindOf(value)}`);
    } else if (need) this.add(child(base, key), "is required");
  }

  count(value: unknown, base: string, key: string): void {
    if (value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0)) return;
    const path = child(base, key);
    if (typeof value !== "number") this.add(path, `must be a number, got ${kindOf(value)}`);
    else if (!Number.isSafeInteger(value))
      this.add(path, `must be an integer below 2^53, got ${value}`);
    else this.add(path, `must not be negative, got ${value}`);
  }

  strings(value: unknown, base: string, key: string): void {
    if (value === undefined) return;
    const path = child(base, key);
    if (!Array.isArray(value)) {
      this.add(path, `must be an array of strings, got ${kindOf(value)}`);
      return;
    }
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== "string")
        this.add(`${path}[${i}]`, `must be a string, got ${kindOf(value[i])}`);
    }
  }

  platform(platform: JsonObject, path: string): void {
    this.string(platform.architecture, path, "architecture", 1);
    this.string(platform.os, path, "os", 1);
    this.string(platform["os.version"], path, "os.version");
    this.strings(platform["os.features"], path, "os.features");
    this.string(platform.variant, path, "variant");
    this.strings(platform.features, path, "features");
  }

  descriptor(d: JsonObject, path: string): void {
    this.string(d.mediaType, path, "mediaType");
    this.count(d.size, path, "size");
    this.string(d.digest, path, "digest");
    this.strings(d.urls, path, "urls");
    const annotations = d.annotations;
    if (annotations !== undefined && this.object(annotations, path, "annotations", 0)) {
      for (const name in annotations) {
        const value = annotations[name];
        if (typeof value !== "string") {
          this.add(
            child(child(path, "annotations"), name),
            `must be a string, got ${kindOf(value)}`,
          );
        }
      }
    }
    this.string(d.data, path, "data");
    const platform = d.platform;
    if (platform !== undefined && this.object(platform, path, "platform", 0)) {
      this.platform(platform, child(path, "platform"));
    }
    this.string(d.artifactType, path, "artifactType");
  }

  target(t: JsonObject, path: string): void {
    this.descriptor(t, path);
    this.count(t.length, path, "length");
    this.string(t.repository, path, "repository", 2);
    this.string(t.fromRepository, path, "fromRepository");
    this.string(t.url, path, "url");
    this.string(t.tag, path, "tag");
    const references = t.references;
    if (references === undefined) return;
    const at = `${path}.references`;
    if (!Array.isArray(references)) {
      this.add(at, `must be an array of descriptors, got ${kindOf(references)}`);
      return;
    }
    for (let i = 0; i < references.length; i++) {
      const reference = references[i];
      if (isObject(reference)) this.descriptor(reference, `${at}[${i}]`);
      else this.add(`${at}[${i}]`, `must be an object, got ${kindOf(reference)}`);
    }
  }

  event(e: JsonObject, path: string): void {
    this.string(e.id, path, "id", 2);
    const timestamp = e.timestamp;
    if (typeof timestamp !== "string") this.string(timestamp, path, "timestamp", 1);
    else if (!isTimestamp(timestamp)) {
      const shown = timestamp.length > 40 ? `${timestamp.slice(0, 40)}…` : timestamp;
      this.add(
        `${path}.timestamp`,
        `must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z, got ${JSON.stringify(shown)}`,
      );
    }
    this.string(e.action, path, "action", 2);
    const target = e.target;
    if (this.object(target, path, "target", 1)) this.target(target, `${path}.target`);
    const request = e.request;
    if (request !== undefined && this.object(request, path, "request", 0)) {
      const at = `${path}.request`;
      this.string(request.id, at, "id");
      this.string(request.addr, at, "addr");
      this.string(request.host, at, "host");
      this.string(request.method, at, "method");
      this.string(request.useragent, at, "useragent");
    }
    const actor = e.actor;
    if (actor !== undefined && this.object(actor, path, "actor", 0)) {
      this.string(actor.name, `${path}.actor`, "name");
    }
    const source = e.source;
    if (source !== undefined && this.object(source, path, "source", 0)) {
      this.string(source.addr, `${path}.source`, "addr");
      this.string(source.instanceID, `${path}.source`, "instanceID");
    }
  }

  envelope(value: unknown): void {
    if (!isObject(value)) {
      this.add("", `must be a JSON object with an "events" array, got ${kindOf(value)}`);
      return;
    }
    const events = value.events;
    if (!Array.isArray(events)) {
      this.add(
        "events",
        events === undefined
          ? "is required (an array of events)"
          : `must be an array, got ${kindOf(events)}`,
      );
      return;
    }
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      if (isObject(event)) this.event(event, `events[${i}]`);
      else this.add(`events[${i}]`, `must be an object, got ${kindOf(event)}`);
    }
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
    const checker = new Checker();
    checker.envelope(value);
    if (checker.issues.length === 0) return { success: true, envelope: value as Envelope };
    return { success: false, issues: checker.issues };
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

function quote(value: string): string {
  return NEEDS_ESCAPE.test(value) ? escapeFrom(value, 0) : `"${value}"`;
}

function escapeFrom(value: string, start: number): string {
  let out = '"';
  let from = 0;
  for (let i = start; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let escaped: string;
    if (c === 34) escaped = '\\"';
    else if (c === 92) escaped = "\\\\";
    else if (c === 10) escaped = "\\n";
    else if (c === 13) escaped = "\\r";
    else if (c === 9) escaped = "\\t";
    // Go ≤ 1.21 (distribution 2.x) writes \b and \f as \u0008 and \u000c too.
    else if (c < 0x20 || c === 60 || c === 62 || c === 38 || c === 0x2028 || c === 0x2029) {
      escaped = `\\u${c.toString(16).padStart(4, "0")}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair is written as is
        continue;
      }
      escaped = "\\ufffd"; // Go replaces invalid UTF-8 with U+FFFD, written escaped
    } else continue;
    out += value.slice(from, i) + escaped;
    from = i + 1;
  }
  return `${out + value.slice(from)}"`;
}

class EncodeFailure extends Error {}

const INDENT = "   ";
const indents: string[] = ["\n"];
const newline = (depth: number): string => {
  for (let d = indents.length; d <= depth; d++) indents.push(indents[d - 1] + INDENT);
  return indents[depth] as string;
};

/** Writes one value; `depth` is its nesting level (its members go at depth + 1). */
type Writer = (value: unknown, depth: number) => string;

/** How a known object is written: its keys in Go's struct order and how to write each value. */
interface Shape {
  keys: readonly string[];
  quoted: readonly string[];
  known: Record<string, true>;
  /** How to write the value of `keys[k]` (undefined: any JSON value). */
  writerAt: (Writer | undefined)[];
  /** The Go zero value written when `keys[k]` is absent, for v3's always-present keys. */
  zeroAt: (string | undefined)[];
}

function shape(
  keys: readonly string[],
  writers: Record<string, Writer> = {},
  always?: Record<string, string>,
): Shape {
  const known: Record<string, true> = Object.create(null);
  for (const key of keys) known[key] = true;
  return {
    keys,
    quoted: keys.map((key) => `${quote(key)}: `),
    known,
    writerAt: keys.map((key) => writers[key]),
    zeroAt: keys.map((key) => always?.[key]),
  };
}

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
      return writeObject(value as JsonObject, depth, undefined);
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

function writeObject(object: JsonObject, depth: number, known: Shape | undefined): string {
  const inner = newline(depth + 1);
  let out = "{";
  let separator = "";
  if (known !== undefined) {
    const { keys, quoted, writerAt, zeroAt } = known;
    for (let k = 0; k < keys.length; k++) {
      const value = object[keys[k] as string];
      if (value === undefined) {
        const zero = zeroAt[k];
        if (zero !== undefined) {
          out += separator + inner + quoted[k] + zero;
          separator = ",";
        }
        continue;
      }
      const writer = writerAt[k];
      out +=
        separator +
        inner +
        quoted[k] +
        (writer === undefined ? writeAny(value, depth + 1) : writer(value, depth + 1));
      separator = ",";
    }
  }
  for (const key in object) {
    if (known?.known[key] === true || !Object.hasOwn(object, key)) continue;
    const value = object[key];
    if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
    out += `${separator}${inner}${quote(key)}: ${writeAny(value, depth + 1)}`;
    separator = ",";
  }
  return separator === "" ? "{}" : `${out}${newline(depth)}}`;
}

const writeShaped =
  (known: Shape): Writer =>
  (value, depth) =>
    isObject(value) ? writeObject(value, depth, known) : writeAny(value, depth);

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
const writeMap: Writer = (value, depth) => {
  if (!isObject(value)) return writeAny(value, depth);
  const keys = Object.keys(value).sort(compareKeys);
  return writeObject(value, depth, shape(keys));
};

const platform = shape(["architecture", "os", "os.version", "os.features", "variant", "features"]);
const writePlatform = writeShaped(platform);

interface Line {
  envelope: Writer;
}

function line(v2: boolean): Line {
  const descriptorKeys = v2
    ? ["mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"]
    : ["mediaType", "size", "digest", "urls", "annotations", "platform"];
  const always = v2 ? { mediaType: '""', digest: '""', size: "0" } : undefined;
  const descriptorWriters: Record<string, Writer> = {
    annotations: writeMap,
    platform: writePlatform,
  };
  const descriptor = writeShaped(shape(descriptorKeys, descriptorWriters, always));
  const target = shape(
    [...descriptorKeys, "length", "repository", "fromRepository", "url", "tag", "references"],
    {
      ...descriptorWriters,
      references: (value, depth) =>
        Array.isArray(value) ? writeArray(value, depth, descriptor) : writeAny(value, depth),
    },
    always,
  );
  const event = shape(["id", "timestamp", "action", "target", "request", "actor", "source"], {
    target: writeShaped(target),
    request: writeShaped(shape(["id", "addr", "host", "method", "useragent"])),
    actor: writeShaped(shape(["name"])),
    source: writeShaped(shape(["addr", "instanceID"])),
  });
  const writeEvent = writeShaped(event);
  const envelope = shape(["events"], {
    events: (value, depth) =>
      Array.isArray(value) ? writeArray(value, depth, writeEvent) : writeAny(value, depth),
  });
  return { envelope: writeShaped(envelope) };
}

let v1Line: Line | undefined;
let v2Line: Line | undefined;

/** The path of the first value that cannot be written, for the error message. */
function locate(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : path;
  if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol")
    return path;
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > 1000) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = locate(value[i], `${path}[${i}]`, depth + 1);
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
  let chosen: Line;
  if (options.mediaType === EventsMediaTypeV2) {
    v2Line ??= line(true);
    chosen = v2Line;
  } else {
    v1Line ??= line(false);
    chosen = v1Line;
  }
  try {
    return chosen.envelope(envelope, 0);
  } catch (error) {
    if (!(error instanceof EncodeFailure)) throw error;
    const at = locate(envelope, "", 0);
    throw new TypeError(`encodeEnvelope: ${at ? `${at}: ` : ""}${error.message}`);
  }
}

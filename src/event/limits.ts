// What envelope.ts needs besides validation and encoding: the limits that keep every accepted
// envelope storable and encodable (and the walk that checks them), the JSON text scanner (syntax
// error positions, a duplicate "events" key) and the text fix-ups done before JSON.parse.
// Nothing here recurses: bodies may nest 100k levels deep.

/**
 * The deepest nesting parseEnvelope accepts: arrays and objects inside each other, the envelope
 * (root object) counting as level 1, so an event is at level 3 and its unknown fields may nest
 * 60 levels more. The encoder recurses once per level and SQLite's JSON functions stop at 1000;
 * registries write at most 8. Checked without recursion, for text and parsed input alike.
 *
 * @example
 * ```ts
 * import { MAX_JSON_DEPTH, safeParseEnvelope } from "registry-relay";
 * const deep = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
 * safeParseEnvelope(`{"events":[],"x":${deep}}`).success; // false: level 65
 * ```
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The largest event parseEnvelope accepts: 1 MiB of UTF-8, measured as `encodeEnvelope` writes
 * the event inside its envelope (from its `{` to its `}`, indented) on the v2 line
 * (`EventsMediaTypeV2`), which is never shorter than v1. The relay stores each event as one
 * SQLite row, and a Durable Object row or string holds at most 2 MB.
 *
 * @example
 * ```ts
 * import { EnvelopeError, MAX_EVENT_BYTES, parseEnvelope } from "registry-relay";
 * try {
 *   parseEnvelope(body);
 * } catch (error) {
 *   if (error instanceof EnvelopeError && error.tooLarge) console.log(`> ${MAX_EVENT_BYTES} bytes`);
 * }
 * ```
 */
export const MAX_EVENT_BYTES = 1024 * 1024;

/**
 * The longest `id`, `action` and `target.repository` parseEnvelope accepts, each in UTF-8 bytes.
 * The relay keys its queues, duplicate filter and partitions by them and stores each in a column
 * of its own, next to the event (so a row stays under 2 MB); registries send 36-character UUIDs
 * and repository names of at most 255 characters.
 *
 * @example
 * ```ts
 * import { MAX_EVENT_KEY_BYTES, uuidv7 } from "registry-relay";
 * const id = uuidv7();
 * console.log(id.length <= MAX_EVENT_KEY_BYTES); // true
 * ```
 */
export const MAX_EVENT_KEY_BYTES = 1024;

/** A problem with its path, as EnvelopeIssue (envelope.ts) has it. */
export interface Finding {
  path: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Issue paths

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** `key` (a property or an array index) inside `base`, for keys known to be identifiers. */
export const join = (base: string, key: string | number): string =>
  typeof key === "number" ? `${base}[${key}]` : `${base}.${key}`;
/** The path of `key` (a property or an array index) inside `base`. */
export const child = (base: string, key: string | number): string =>
  typeof key === "string" && !IDENTIFIER.test(key)
    ? `${base}[${JSON.stringify(key)}]`
    : base
      ? join(base, key)
      : `${key}`;

// ---------------------------------------------------------------------------------------------
// Text fix-ups before JSON.parse

/** Every escape whole (so `\\ud800` is a backslash and text); a pair of surrogate escapes as one. */
const SURROGATE_ESCAPES =
  /\\(?:u[dD][89abAB][\da-fA-F]{2}(?:\\u[dD][c-fC-F][\da-fA-F]{2})?|u[dD][c-fC-F][\da-fA-F]{2}|.)/g;

/**
 * `text` with every lone surrogate (raw, or as a `\uXXXX` escape) replaced by U+FFFD, as Go's
 * decoder does. Otherwise the encoder writes it as `\ufffd`, which reads back as a real U+FFFD
 * that is then written raw: a second round trip would change the bytes. Lengths are kept, so
 * syntax error positions still point into the body. `escaped`: the text has a backslash.
 */
export function wellFormed(text: string, escaped: boolean): string {
  // ES2024 (Node 20, current browsers; older engines keep raw ones). A one-byte string, as most
  // bodies are, is returned at once.
  let out = (text as string & { toWellFormed?(): string }).toWellFormed?.() ?? text;
  if (escaped && /\\ud/i.test(out)) {
    out = out.replace(SURROGATE_ESCAPES, (found) => (found.length === 6 ? "\\ufffd" : found));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The JSON scanner: engines word (and place) syntax errors differently, so locate them ourselves.
// The same pass finds a root key seen twice.

const SPACE = /[ \t\n\r]*/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it stops at.
const STRING_PREFIX = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*/y;
const DIGITS = /\d+/y;
const LITERAL = /true|false|null/y;

/** The message of a container nested deeper than MAX_JSON_DEPTH. */
const TOO_DEEP = `nests deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH} levels)`;
const TWICE = "twice";

/**
 * Where and why `text` is not JSON (RFC 8259), or undefined if it is. Iterative: no recursion.
 * With `rootKey`, that key's second occurrence in the root object is a finding (reason "twice").
 */
function scanJson(text: string, rootKey?: string): { at: number; reason: string } | undefined {
  const closers: string[] = []; // "}" or "]" for each open container
  let seen = false;
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
    const start = i;
    const problem = string();
    if (problem) return problem;
    if (rootKey && closers.length === 1 && JSON.parse(text.slice(start, i)) === rootKey) {
      if (seen) return TWICE;
      seen = true;
    }
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

/**
 * The issue for a body JSON.parse refused (`error`): its syntax error, or the engine's words for
 * valid JSON it could not parse (one whose parser recursed would be out of stack on deep bodies).
 */
export function jsonIssue(text: string, error: unknown): Finding {
  if (text.trim() === "") return { path: "", message: "body is empty" };
  const found = scanJson(text);
  let reason = `${(error as Error)?.message ?? error}`;
  if (found !== undefined) {
    const lines = text.slice(0, found.at).split("\n");
    const column = (lines[lines.length - 1] as string).length + 1;
    reason = `${found.reason} (line ${lines.length}, column ${column}, position ${found.at})`;
  }
  return { path: "", message: `body is not valid JSON: ${reason}` };
}

/**
 * The issue for a root object with "events" twice (JSON.parse keeps the last one), if so. A text
 * search rules out almost every body first: a repeated key is a second `vents"`, or an escaped
 * letter of it (e, n, s, t, v are \u0065, \u006e, \u0073, \u0074, \u0076). `escaped`: the text
 * has a backslash.
 */
export function duplicateEventsIssue(text: string, escaped: boolean): Finding | undefined {
  const suspect =
    text.includes('vents"', text.indexOf('vents"') + 6) || (escaped && /\\u00[67]/.test(text));
  if (suspect && scanJson(text, "events")?.reason === TWICE) {
    return {
      path: "events",
      message: "duplicate key; all but the last would be lost",
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Measuring a parsed value: depth, values the encoder cannot write, and bounds of its size.

/**
 * Bytes one member (object entry or array item) of a container at level L can add to the encoded
 * text, at most, besides 6 bytes per character of its key and strings (a character is at most 6
 * bytes: `\u003c`): 128 + 16 L, that is comma, newline and indentation (3 L), key quotes and
 * `": "`, a number (at most 25 characters), a nested container's brackets and its closing line,
 * and the up to three members v2 adds to a descriptor (`"mediaType": ""`, `"digest": ""`,
 * `"size": 0`). Known fields nest 8 levels at most: 256 bytes.
 */
export const memberBytes = (level: number): number => 128 + 16 * level;

/**
 * What `measure` found: an issue, or an upper bound of the encoded UTF-8 bytes. Objects with a
 * `toJSON` method (parsed input only) are measured as they are, not as `toJSON` returns them.
 */
export interface Measure {
  issue?: Finding;
  upper: number;
}

interface Frame {
  value: object;
  level: number;
  parent?: Frame;
  key: string | number;
}

/**
 * Walks the object `value` at nesting `level` (found at `path`) without recursion, as the
 * encoder would write it (own enumerable keys; `undefined`, functions and symbols skipped in
 * objects): the first container deeper than `deepest` levels or value JSON cannot hold is the
 * issue; otherwise `upper` bounds its encoded size. `skip`: a key of `value` to leave out.
 */
export function measure(
  value: object,
  level: number,
  path: string,
  skip?: string,
  deepest = MAX_JSON_DEPTH,
): Measure {
  let upper = 0;
  const stack: Frame[] = [{ value, level, key: "" }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const container = frame.value as Record<string, unknown>;
    const isArray = Array.isArray(container);
    for (const key in container) {
      const item = container[key];
      const type = typeof item;
      if (!Object.hasOwn(container, key) || (key === skip && !frame.parent)) continue;
      if (!isArray) {
        if (type === "undefined" || type === "function" || type === "symbol") continue;
        upper += 6 * key.length;
      }
      const at = isArray ? +key : key;
      upper += memberBytes(frame.level);
      let problem: string | undefined;
      if (type === "string") upper += 6 * (item as string).length;
      else if (type === "number") {
        if (!Number.isFinite(item)) problem = `${item} is not a JSON number`;
      } else if (type === "object" && item !== null) {
        if (frame.level >= deepest) problem = TOO_DEEP;
        else stack.push({ value: item as object, level: frame.level + 1, parent: frame, key: at });
      } else if (type !== "boolean" && type !== "undefined" && item !== null) {
        problem = `a ${type} cannot be written as JSON`;
      }
      if (problem) {
        // The path is built only here, for the one member at fault.
        const keys = [at];
        for (let f = frame; f.parent; f = f.parent) keys.unshift(f.key);
        return { issue: { path: keys.reduce(child, path), message: problem }, upper };
      }
    }
  }
  return { upper };
}

let encoder: TextEncoder | undefined;
/** UTF-8 bytes of `text`. */
export function utf8Length(text: string): number {
  encoder ??= new TextEncoder();
  return encoder.encode(text).length;
}

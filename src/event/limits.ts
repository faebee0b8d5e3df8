// The limits that keep every accepted envelope storable and encodable, the walk that checks them
// on a parsed value, and the issue paths they are reported with. Nothing here recurses: bodies
// may nest 100k levels deep.

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

/** A problem with its path, as EnvelopeIssue (parse.ts) has it. */
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

/** The message of a container nested deeper than MAX_JSON_DEPTH. */
const TOO_DEEP = `nests deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH} levels)`;

let encoder: TextEncoder | undefined;
/** UTF-8 bytes of `text`. */
export function utf8Length(text: string): number {
  encoder ??= new TextEncoder();
  return encoder.encode(text).length;
}

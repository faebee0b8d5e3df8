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
 * The largest event text a store of one row per event is given: 1 MiB of UTF-8. The relay stores
 * each event as one SQLite row, and a Durable Object row or string holds at most 2 MB.
 * `eventTexts` and `eventText` refuse an event over it (`EnvelopeError` with `tooLarge`, which
 * an HTTP receiver answers 413): an event as the registry wrote it when that fits, else its
 * encoding. `parseEnvelope` does not apply it: a receiver that stores nothing takes any size.
 *
 * @example
 * ```ts
 * import { EnvelopeError, eventTexts, MAX_EVENT_BYTES, parseEnvelope } from "registry-relay";
 * try {
 *   eventTexts(body, parseEnvelope(body));
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
// Walking a parsed value: depth, and values the encoder cannot write.

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
 * issue, with its path. Objects with a `toJSON` method (parsed input only) are walked as they
 * are. `skip`: a key of `value` to leave out.
 */
export function unwritable(
  value: object,
  level: number,
  path: string,
  skip?: string,
  deepest = MAX_JSON_DEPTH,
): Finding | undefined {
  const stack: Frame[] = [{ value, level, key: "" }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const container = frame.value as Record<string, unknown>;
    const isArray = Array.isArray(container);
    for (const key in container) {
      const item = container[key];
      const type = typeof item;
      if (!Object.hasOwn(container, key) || (key === skip && !frame.parent)) continue;
      if (!isArray && (type === "undefined" || type === "function" || type === "symbol")) continue;
      const at = isArray ? +key : key;
      let problem: string | undefined;
      if (type === "number") {
        if (!Number.isFinite(item)) problem = `${item} is not a JSON number`;
      } else if (type === "object" && item !== null) {
        if (frame.level >= deepest) problem = TOO_DEEP;
        else stack.push({ value: item as object, level: frame.level + 1, parent: frame, key: at });
      } else if (type !== "string" && type !== "boolean" && type !== "undefined" && item !== null) {
        problem = `a ${type} cannot be written as JSON`;
      }
      if (problem) {
        // The path is built only here, for the one member at fault.
        const keys = [at];
        for (let f = frame; f.parent; f = f.parent) keys.unshift(f.key);
        return { path: keys.reduce(child, path), message: problem };
      }
    }
  }
  return undefined;
}

/** The message of a container nested deeper than MAX_JSON_DEPTH. */
const TOO_DEEP = `nests deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH} levels)`;

let encoder: TextEncoder | undefined;
/** UTF-8 bytes of `text`. */
export function utf8Length(text: string): number {
  encoder ??= new TextEncoder();
  return encoder.encode(text).length;
}

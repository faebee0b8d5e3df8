// The limits that keep every accepted envelope storable and encodable, the walk that checks them
// on a parsed value, and the issue paths they are reported with. The walk recurses at most
// MAX_JSON_DEPTH levels, however deep the value: bodies may nest 100k levels.

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
 * import { MAX_EVENT_KEY_BYTES } from "registry-relay";
 * import { uuidv7 } from "registry-relay/bridge";
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

/** The first three issues as one line, `path: message; …`, and how many more there are. */
export function issuesLine(issues: readonly Finding[]): string {
  const shown = issues
    .slice(0, 3)
    .map((issue) => (issue.path ? `${issue.path}: ` : "") + issue.message);
  return shown.join("; ") + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : "");
}

/**
 * Whether every issue is a size limit (an HTTP receiver answers 413, not 400): what their
 * messages (validate.ts, raw.ts) say. False when there is none.
 */
export const onlySizeLimits = (issues: readonly Finding[]): boolean =>
  issues.length > 0 && issues.every((issue) => issue.message.includes(" over MAX_EVENT_"));

// ---------------------------------------------------------------------------------------------
// Issue paths

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** The path of `key` (a property or an array index) inside `base`. */
export const child = (base: string, key: string | number): string =>
  typeof key === "string" && !IDENTIFIER.test(key)
    ? `${base}[${JSON.stringify(key)}]`
    : !base
      ? `${key}`
      : typeof key === "number"
        ? `${base}[${key}]`
        : `${base}.${key}`;

// ---------------------------------------------------------------------------------------------
// Walking a parsed value: depth, and values the encoder cannot write.

/**
 * Walks the object `value` at nesting `level` (found at `path`) as the encoder would write it
 * (own enumerable keys, in order; `undefined`, functions and symbols skipped in objects): the
 * first container deeper than MAX_JSON_DEPTH levels or value JSON cannot hold is the issue, with
 * its path. It recurses only down to MAX_JSON_DEPTH, so cycles and deep values end there. Objects with a
 * `toJSON` method (parsed input only) are walked as they are. `skip`: a key of `value` to leave
 * out.
 */
export function unwritable(
  value: object,
  level: number,
  path: string,
  skip?: string,
): Finding | undefined {
  // Keys from the member at fault up, collected on the way out: paths are built only for it.
  const keys: (string | number)[] = [];
  const walk = (container: Record<string, unknown>, depth: number): string | undefined => {
    const isArray = Array.isArray(container);
    for (const key in container) {
      if (!Object.hasOwn(container, key) || (key === skip && depth === level)) continue;
      const item = container[key];
      const type = typeof item;
      let problem: string | undefined;
      if (type === "number") {
        if (!Number.isFinite(item)) problem = `${item} is not a JSON number`;
      } else if (type === "object") {
        if (item) {
          problem =
            depth < MAX_JSON_DEPTH
              ? walk(item as Record<string, unknown>, depth + 1)
              : `nests deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH} levels)`;
        }
      } else if (type === "bigint" || (isArray && (type === "function" || type === "symbol"))) {
        // Objects skip undefined, functions and symbols; arrays write undefined as null.
        problem = `a ${type} cannot be written as JSON`;
      }
      if (problem) {
        keys.unshift(isArray ? +key : key);
        return problem;
      }
    }
    return undefined;
  };
  const message = walk(value as Record<string, unknown>, level);
  return message ? { path: keys.reduce(child, path), message } : undefined;
}

const encoder = /* @__PURE__ */ new TextEncoder();
/** `text` in UTF-8. */
export const utf8Bytes = (text: string): Uint8Array => encoder.encode(text);
/** UTF-8 bytes of `text`. */
export const utf8Length = (text: string): number => utf8Bytes(text).length;

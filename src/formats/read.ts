// Reading a notification: the body as a JSON object (with the core's UTF-8 and JSON error
// messages), a header by name, and typed fields that throw a FormatError naming the field's path
// and the reason. Every normalizer reads through here, so each refusal reads the same way.

import { mediaTypeOf } from "../event/constants.ts";
import { bodyText } from "../event/decode.ts";
import { formatTimestamp, isTimestamp } from "../event/ids.ts";
import { child, MAX_JSON_DEPTH } from "../event/limits.ts";
import { jsonIssue } from "../event/scan.ts";
import { FormatError, type HeadersInput, type InputFormat } from "./model.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** `{...}` only (not an array, not null). */
export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** What a value is, for messages: `a string`, `an array`, `null`… */
function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}

/** A value for messages: a number as written, anything else by its kind. */
const shown = (value: unknown): string => (typeof value === "number" ? `${value}` : kind(value));

/** Whether a value nests deeper than `MAX_JSON_DEPTH` (the root being level 1). */
function tooDeep(value: unknown, level: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (level > MAX_JSON_DEPTH) return true;
  for (const item of Object.values(value)) if (tooDeep(item, level + 1)) return true;
  return false;
}

/** A header's value (case-insensitive name), or undefined when absent. */
export function header(headers: HeadersInput | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return typeof value === "string" ? value : value.join(", ");
  }
  return undefined;
}

/** The media type of `Content-Type`, lowercase, without parameters ("" when absent). */
export function contentType(headers: HeadersInput | undefined): string {
  return mediaTypeOf(header(headers, "content-type")) ?? "";
}

/**
 * Typed reads for one format. Paths are those of the body (`event_data.resources[0].tag`);
 * `base` is the path of the object read from (`""` for the root).
 */
export class Reader {
  constructor(readonly format: InputFormat) {}

  /** Throws the FormatError for one issue. */
  fail(path: string, message: string): never {
    throw new FormatError(this.format, [{ path, message }]);
  }

  /** The body as a JSON object: strict UTF-8, valid JSON, at most MAX_JSON_DEPTH levels. */
  json(body: unknown): Json {
    const decoded = bodyText(body);
    if (decoded === undefined)
      this.fail("", "body must be a string, a Uint8Array or an ArrayBuffer");
    if (!("text" in decoded)) this.fail(decoded.path, decoded.message);
    let value: unknown;
    try {
      value = JSON.parse(decoded.text);
    } catch (error) {
      const issue = jsonIssue(decoded.text, error);
      this.fail(issue.path, issue.message);
    }
    if (!isObject(value)) this.fail("", `body must be a JSON object, not ${kind(value)}`);
    if (tooDeep(value, 1)) this.fail("", `body nests deeper than ${MAX_JSON_DEPTH} levels`);
    return value;
  }

  /** `parent[key]` if it is the object's own (null counts as absent), with its path. */
  private at(parent: Json, key: string, base: string): [unknown, string] {
    const value = Object.hasOwn(parent, key) ? parent[key] : undefined;
    return [value ?? undefined, child(base, key)];
  }

  /** A required object. */
  object(parent: Json, key: string, base: string): Json {
    const [value, path] = this.at(parent, key, base);
    if (value === undefined) this.fail(path, "is required");
    if (!isObject(value)) this.fail(path, `must be an object, not ${kind(value)}`);
    return value;
  }

  /** An optional object. */
  optObject(parent: Json | undefined, key: string, base: string): Json | undefined {
    if (parent === undefined) return undefined;
    const [value, path] = this.at(parent, key, base);
    if (value === undefined) return undefined;
    if (!isObject(value)) this.fail(path, `must be an object, not ${kind(value)}`);
    return value;
  }

  /** A required array. */
  array(parent: Json, key: string, base: string): unknown[] {
    const [value, path] = this.at(parent, key, base);
    if (value === undefined) this.fail(path, "is required");
    if (!Array.isArray(value)) this.fail(path, `must be an array, not ${kind(value)}`);
    return value;
  }

  /** An optional array. */
  optArray(parent: Json, key: string, base: string): unknown[] | undefined {
    return this.at(parent, key, base)[0] === undefined ? undefined : this.array(parent, key, base);
  }

  /** The objects of an array, each one required to be an object. */
  objects(items: unknown[], base: string): Json[] {
    return items.map((item, index) => {
      if (!isObject(item)) this.fail(child(base, index), `must be an object, not ${kind(item)}`);
      return item;
    });
  }

  /** A required, non-empty string. */
  string(parent: Json, key: string, base: string): string {
    const [value, path] = this.at(parent, key, base);
    if (value === undefined) this.fail(path, "is required");
    if (typeof value !== "string") this.fail(path, `must be a string, not ${kind(value)}`);
    if (value === "") this.fail(path, "must not be empty");
    return value;
  }

  /** An optional string; empty counts as absent. */
  optString(parent: Json | undefined, key: string, base: string): string | undefined {
    if (parent === undefined) return undefined;
    const [value, path] = this.at(parent, key, base);
    if (value === undefined || value === "") return undefined;
    if (typeof value !== "string") this.fail(path, `must be a string, not ${kind(value)}`);
    return value;
  }

  /** An optional size: a non-negative safe integer. */
  optCount(parent: Json | undefined, key: string, base: string): number | undefined {
    if (parent === undefined) return undefined;
    const [value, path] = this.at(parent, key, base);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      this.fail(path, `must be a non-negative integer, not ${shown(value)}`);
    }
    return value;
  }

  /** A required Unix time in seconds (fractions kept to the millisecond), as RFC 3339 UTC. */
  unixSeconds(parent: Json, key: string, base: string): string {
    const [value, path] = this.at(parent, key, base);
    if (value === undefined) this.fail(path, "is required");
    // Up to 9999-12-31T23:59:59Z: the years RFC 3339 (and Go) can write.
    if (typeof value !== "number" || !(value >= 0 && value <= 253_402_300_799)) {
      this.fail(path, `must be a Unix time in seconds, not ${shown(value)}`);
    }
    return formatTimestamp(new Date(Math.round(value * 1000)));
  }

  /** An optional RFC 3339 date-time, kept as written (its fraction digits and offset). */
  optTime(parent: Json | undefined, key: string, base: string): string | undefined {
    const value = this.optString(parent, key, base);
    if (value !== undefined && !isTimestamp(value)) {
      this.fail(
        child(base, key),
        "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
      );
    }
    return value;
  }
}

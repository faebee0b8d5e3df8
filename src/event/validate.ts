// Validation of a parsed body: the rules of schema.ts checked in place in one pass (no copy),
// collecting every issue with its path, and the limits of limits.ts. valibot alone costs about as
// much as JSON.parse on real envelopes, which would halve receive throughput;
// test/core/envelope.test.ts checks that this pass and `EnvelopeSchema` agree.

import {
  COUNT,
  EVENT,
  type Fields,
  type JsonObject,
  MAP,
  NON_EMPTY,
  OBJECT,
  OBJECTS,
  REQUIRED,
  REQUIRED_OBJECT,
  STRING,
  STRINGS,
  TIMESTAMP,
} from "./fields.ts";
import { isTimestamp } from "./ids.ts";
import { child, type Finding, MAX_EVENT_KEY_BYTES, unwritable, utf8Length } from "./limits.ts";

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

/**
 * Checks a parsed body against the rules of schema.ts and the limits of limits.ts, in place,
 * adding every issue (up to 50) with its path to `issues`.
 */
export function checkEnvelope(value: unknown, issues: Finding[]): void {
  const add = (issue: Finding | undefined): void => {
    if (issue && issues.length < 50) issues.push(issue);
  };
  // An object of the event being checked has a key the field table does not know: only a walk
  // can check it.
  let unknown = false;
  /** Issues that are size limits (id, action or repository too long). */
  let oversize = 0;

  // Paths are only built when there is something to report or a level to descend.
  const checkFields = (object: JsonObject, fields: Fields, path: string): void => {
    let present = 0;
    for (const [key, kind = STRING, nested] of fields) {
      const value = object[key];
      if (value === undefined) {
        if (kind >= REQUIRED) add({ path: child(path, key), message: "is required" });
        continue;
      }
      present++;
      // Most fields are present strings: settle those without a call.
      if (typeof value !== "string" || (kind !== STRING && kind !== REQUIRED)) {
        checkValue(value, kind, nested, path, key);
      }
    }
    for (const _key in object) present--;
    if (present) unknown = true;
  };

  /**
   * Checks `value`, found at `key` of `base` (array items included: `undefined` is wrong there).
   */
  const checkValue = (
    value: unknown,
    kind: number,
    fields: Fields | undefined,
    base: string,
    key: string | number,
  ): void => {
    let wanted: string | undefined;
    let problem: string | undefined;
    if (kind === COUNT) {
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        const shown = typeof value === "number" ? value : kindOf(value);
        problem = `must be a non-negative integer below 2^53, got ${shown}`;
      }
    } else if (kind === STRINGS || kind === OBJECTS) {
      if (!Array.isArray(value)) wanted = "an array";
      else {
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          // Size issues do not stop the walk below: it may find what makes the body a 400.
          const before = issues.length - oversize;
          if (!base) unknown = false; // an event
          if (kind === OBJECTS || typeof item !== "string") {
            checkValue(item, kind === OBJECTS ? OBJECT : STRING, fields, child(base, key), i);
          }
          // A valid event with unknown fields: their depth and values (limits.ts).
          if (!base && unknown && issues.length - oversize === before) {
            add(unwritable(item, 3, `events[${i}]`));
          }
        }
      }
    } else if (kind === MAP || kind === OBJECT || kind === REQUIRED_OBJECT) {
      if (kindOf(value) !== "object") wanted = "an object";
      else if (fields) checkFields(value as JsonObject, fields, child(base, key));
      else {
        for (const name in value as JsonObject) {
          const item = (value as JsonObject)[name];
          if (typeof item !== "string") checkValue(item, STRING, fields, child(base, key), name);
        }
      }
    } else if (typeof value !== "string") wanted = "a string";
    else if (kind === TIMESTAMP) {
      if (!isTimestamp(value))
        problem = "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z";
    } else if (kind === NON_EMPTY) {
      // id, action and target.repository: the relay keys and stores them in columns of their own.
      const bytes = value.length * 3 > MAX_EVENT_KEY_BYTES ? utf8Length(value) : 0;
      if (value === "") problem = "must not be empty";
      else if (bytes > MAX_EVENT_KEY_BYTES) {
        oversize++;
        problem = `is ${bytes} bytes long, over MAX_EVENT_KEY_BYTES (${MAX_EVENT_KEY_BYTES})`;
      }
    }
    if (wanted) problem = `must be ${wanted}, got ${kindOf(value)}`;
    if (problem) add({ path: child(base, key), message: problem });
  };

  if (kindOf(value) !== "object") {
    add({
      path: "",
      message: `must be a JSON object with an "events" array, got ${kindOf(value)}`,
    });
    return;
  }
  const events = (value as JsonObject).events;
  if (events === undefined) add({ path: "events", message: "is required" });
  else checkValue(events, OBJECTS, EVENT, "", "events");
  // Fields of the envelope besides "events": kept and written back, so depth and numbers matter.
  add(unwritable(value as JsonObject, 1, "", "events"));
}

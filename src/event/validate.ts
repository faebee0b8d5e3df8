// Validation of a parsed body: the rules of schema.ts checked in place in one pass (no copy),
// collecting every issue with its path, and the limits of limits.ts. valibot alone costs about as
// much as JSON.parse on real envelopes, which would halve receive throughput;
// test/core/envelope.test.ts checks that this pass and `EnvelopeSchema` agree.

import {
  COUNT,
  EVENT,
  type Field,
  type Fields,
  isObject,
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
import {
  child,
  type Finding,
  join,
  MAX_EVENT_KEY_BYTES,
  unwritable,
  utf8Length,
} from "./limits.ts";

/** Issues reported at most. */
const MAX_ISSUES = 50;

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

function add(issues: Finding[], path: string, message: string): void {
  if (issues.length < MAX_ISSUES) issues.push({ path, message });
}

/** Validation state: the issues, and whether the event being checked has unknown fields. */
interface Check {
  issues: Finding[];
  /** An object of the event has a key the field table does not know: only a walk can check it. */
  unknown: boolean;
}

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
    if (typeof value === "string" && (kind === STRING || kind === REQUIRED)) continue;
    checkValue(value, kind, field[2], path, key, check);
  }
  // Keys beyond the known ones (unknown fields are kept): only a walk can check them.
  for (const _key in object) present--;
  if (present !== 0) check.unknown = true;
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
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (kind === OBJECTS) checkValue(item, OBJECT, fields, join(base, key), i, check);
        else if (typeof item !== "string")
          checkValue(item, STRING, fields, child(base, key), i, check);
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
          if (typeof item !== "string")
            checkValue(item, STRING, fields, child(base, key), name, check);
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

/** The fields the relay keys and stores in columns of their own: bounded apart from the event. */
function checkKeyBytes(issues: Finding[], path: string, value: unknown): void {
  if (typeof value !== "string" || value.length * 3 <= MAX_EVENT_KEY_BYTES) return;
  const bytes = utf8Length(value);
  if (bytes > MAX_EVENT_KEY_BYTES) {
    add(issues, path, `is ${bytes} bytes long, over MAX_EVENT_KEY_BYTES (${MAX_EVENT_KEY_BYTES})`);
  }
}

/**
 * The limits of a valid event (see limits.ts): its keys' sizes, and, when it has unknown fields,
 * their depth and values.
 */
function checkLimits(event: JsonObject, index: number, check: Check): void {
  const { issues } = check;
  const path = `events[${index}]`;
  checkKeyBytes(issues, `${path}.id`, event.id);
  checkKeyBytes(issues, `${path}.action`, event.action);
  checkKeyBytes(issues, `${path}.target.repository`, (event.target as JsonObject).repository);
  const issue = check.unknown ? unwritable(event, 3, path) : undefined;
  if (issue) add(issues, issue.path, issue.message);
}

/**
 * Checks a parsed body against the rules of schema.ts and the limits of limits.ts, in place,
 * adding every issue (up to 50) with its path to `issues`.
 */
export function checkEnvelope(value: unknown, issues: Finding[]): void {
  const events = isObject(value) ? value.events : undefined;
  if (!isObject(value)) {
    add(issues, "", `must be a JSON object with an "events" array, got ${kindOf(value)}`);
    return;
  }
  if (!Array.isArray(events)) {
    const problem = events === undefined ? "is required (an array of events)" : "";
    add(issues, "events", problem || `must be an array, got ${kindOf(events)}`);
  } else {
    const check: Check = { issues, unknown: false };
    for (let i = 0; i < events.length; i++) {
      const before = issues.length;
      check.unknown = false;
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
    const issue = unwritable(value, 1, "", "events");
    if (issue) add(issues, issue.path, issue.message);
  }
}

// The checks parseEndpointConfig is built from (config.ts says why they are not valibot). A rule
// checks the value at `path`, reports each problem and returns the value to keep.
import type { ConfigError } from "./config-error.ts";
import { parseDuration } from "./duration.ts";

export type Path = readonly (string | number)[];
type Report = (path: Path, message: string) => undefined;
export type Rule = (value: unknown, path: Path, report: Report) => unknown;

export const mappingMessage = "must be a mapping of keys to values";

/** A YAML mapping / JSON object, not an array. */
export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

export const valueWhere =
  (accepts: (value: unknown) => boolean, message: string): Rule =>
  (value, path, report) =>
    accepts(value) ? value : report(path, message);

export const textWhere =
  (accepts: (text: string) => boolean, message: string): Rule =>
  (value, path, report) => {
    if (typeof value !== "string") return report(path, "must be a string");
    if (!accepts(value)) report(path, message);
    return value;
  };

export const listOf =
  (item: Rule, message: string): Rule =>
  (value, path, report) =>
    Array.isArray(value)
      ? Array.from(value, (entry, index) => item(entry, [...path, index], report))
      : report(path, message);

/** A duration as bounds show it: `0`, `1ms`, `5m`, `720h (30 days)`. */
export function formatMs(ms: number): string {
  const days = ms >= 2 * 86_400_000 ? ` (${ms / 86_400_000} days)` : "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms && ms % size === 0) return `${ms / size}${unit}${days}`;
  }
  return ms ? `${ms}ms` : "0";
}

const bounded =
  (min: number, max: number, zero?: string, isDuration?: boolean, hint = ""): Rule =>
  (value, path, report) => {
    let number = value as number;
    // "0" where 0 has a meaning: an env var or YAML templating may quote it (maxAttempts: "0").
    if (value === "0" && zero) return 0;
    if (!isDuration && !Number.isInteger(value)) return report(path, "must be an integer");
    try {
      if (isDuration) number = parseDuration(value as string | number);
    } catch (error) {
      return report(path, (error as ConfigError).reason);
    }
    if ((number === 0 && zero) || (number >= min && number <= max)) return number;
    // The bounds, never the value: it may sit next to secrets.
    const range = isDuration
      ? `${formatMs(min)} to ${formatMs(max)}`
      : zero
        ? `${min} to ${max}`
        : `an integer >= ${min} (at most ${max})`;
    const allowed = `${zero ? `0 (${zero}) or ` : ""}${range}${hint}`;
    // "Negative" only where 0 is valid; elsewhere the range says it all ("an integer >= 1").
    report(
      path,
      number < 0 && (zero || min === 0)
        ? `must not be negative; allowed: ${allowed}`
        : `must be ${allowed}`,
    );
    return number;
  };

/**
 * An integer from `min` to `max`. `zero`, if given, allows 0 and says what it means
 * (distribution's "the default", or "unlimited"); `hint` ends the out-of-range message.
 */
export const integer = (min: number, max: number, zero?: string, hint?: string): Rule =>
  bounded(min, max, zero, false, hint);

/** A duration, in ms from `min` to `max`; `zero` as for {@link integer}. */
export const duration = (min: number, max: number, zero?: string): Rule =>
  bounded(min, max, zero, true);

/** A mapping of exactly these keys (`null` and `undefined` values: not set). */
export const strictObject =
  (rules: Record<string, Rule>): Rule =>
  (value, path, report) => {
    if (!isMapping(value)) return report(path, mappingMessage);
    const kept: Record<string, unknown> = {};
    for (const [key, rule] of Object.entries(rules)) {
      if (!(key in value)) continue;
      const item = value[key];
      kept[key] = item == null ? item : rule(item, [...path, key], report);
    }
    // One unknown key per mapping is enough to see what is wrong.
    const unknown = Object.keys(value).find((key) => !Object.hasOwn(rules, key));
    if (unknown !== undefined) {
      const known = nearest(unknown, Object.keys(rules));
      const hint = known && known !== unknown ? ` (did you mean "${known}"?)` : "";
      report([...path, unknown], `unknown key${hint}`);
    }
    return kept;
  };

/** Compares keys ignoring case, punctuation and a plural s. */
const loose = (key: string) =>
  key
    .toLowerCase()
    .replace(/[^a-z]/g, "")
    .replace(/s$/, "");

/** The known key `key` is a typo of (one edit away, two for keys over 5 letters), if any. */
function nearest(key: string, known: readonly string[]): string | undefined {
  const typed = loose(key);
  let best: string | undefined;
  let fewest = typed.length > 5 ? 3 : 2;
  for (const name of known) {
    const edits = distance(typed, loose(name));
    if (edits < fewest) [best, fewest] = [name, edits];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and replacements from `a` to `b`. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (const char of a) {
    const next = [(row[0] as number) + 1];
    for (let j = 0; j < b.length; j++) {
      const replace = (row[j] as number) + (char === b[j] ? 0 : 1);
      next.push(Math.min((row[j + 1] as number) + 1, (next[j] as number) + 1, replace));
    }
    row = next;
  }
  return row[b.length] as number;
}

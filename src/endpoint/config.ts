// Endpoint configuration: distribution's `notifications.endpoints[]` keys plus ours, validated by
// a small set of rules (one per key) and normalised with distribution's defaults. Hand-written
// rather than valibot: an Endpoint would otherwise ship about 9 KB of valibot for this alone.
// `EndpointConfigSchema` wraps the same rules for valibot and Standard Schema users.
import * as v from "valibot";
import {
  type EnvelopeMediaType,
  type EventAction,
  EventActionDelete,
  EventActionMount,
  EventActionPull,
  EventActionPush,
  EventsMediaType,
  EventsMediaTypeV2,
} from "../event/constants.ts";
import type { OverflowPolicy } from "../sinks/queue.ts";

/**
 * One problem found in a configuration: `key` is the path of the offending key
 * (`ignore.actions[1]`, `headers.Authorization[0]`, `""` for the whole input).
 *
 * @example
 * ```ts
 * import type { ConfigIssue } from "registry-relay";
 * const show = (issue: ConfigIssue) => `${issue.key || "(root)"}: ${issue.message}`;
 * ```
 */
export interface ConfigIssue {
  key: string;
  message: string;
}

/**
 * A configuration was rejected. `key` and `reason` describe the first problem; `issues` lists
 * all of them. Messages never contain a header value or a secret.
 *
 * @example
 * ```ts
 * import { ConfigError, parseEndpointConfig } from "registry-relay";
 * try { parseEndpointConfig({ timeout: "1 second" }); } catch (e) {
 *   if (e instanceof ConfigError) console.error(e.key, e.reason); // "timeout", "must be a duration ..."
 * }
 * ```
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly key: string;
  readonly reason: string;
  readonly issues: ConfigIssue[];
  constructor(key: string, reason: string, issues: ConfigIssue[] = [{ key, message: reason }]) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${key ? `${key}: ` : ""}${reason}${more}`);
    this.key = key;
    this.reason = reason;
    this.issues = issues;
  }
}

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const durationShape = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const durationPart = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a duration into milliseconds: a Go duration string (`"500ms"`, `"1s"`, `"2m"`,
 * `"1h30m"`, `"1.5s"`, `"300us"`, `"0"`) or a number, taken as milliseconds. Unlike Go's YAML,
 * a bare number is milliseconds, not nanoseconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "registry-relay";
 * parseDuration("1h30m"); // 5400000
 * parseDuration(250);     // 250
 * ```
 */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new ConfigError("", "a duration must be a finite number of ms");
    return value;
  }
  if (typeof value !== "string") {
    throw new ConfigError("", 'must be a duration such as "1s" or a number of milliseconds');
  }
  const text = value.trim();
  if (text === "0" || text === "+0" || text === "-0") return 0;
  if (!durationShape.test(text)) {
    const reason = /^[-+]?\d+(\.\d*)?$/.test(text)
      ? `duration ${JSON.stringify(value)} has no unit (use e.g. "${text}ms", or a number of milliseconds)`
      : `${JSON.stringify(value)} is not a duration (use a number and a unit: ns, us, ms, s, m, h, e.g. "1s", "1h30m")`;
    throw new ConfigError("", reason);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(durationPart)) {
    total += Number(amount) * (unitMs[unit as string] ?? 0);
  }
  return text.startsWith("-") ? -total : total;
}

const knownActions: readonly unknown[] = [
  EventActionPull,
  EventActionPush,
  EventActionMount,
  EventActionDelete,
];
const mediaTypes: readonly unknown[] = [EventsMediaType, EventsMediaTypeV2];

const defaults = {
  timeout: 1000,
  threshold: 10,
  backoff: 1000,
  maxBatch: 1,
  partitions: 1,
  exponential: { base: 1000, factor: 1000, max: 20_000 },
} as const;

/**
 * The keys of one endpoint's configuration; `Duration` is how durations are written (input: Go
 * strings or ms; after parsing: ms). `null` is YAML's empty value and means "not set". Numbers
 * and durations are bounded; a value outside the bounds (negative included) is a ConfigError.
 */
interface ConfigKeys<Duration> {
  name?: string | null;
  disabled?: boolean | null;
  /** Absolute `http:` or `https:` URL without a `#fragment`. */
  url?: string | null;
  /** Header name to one value or a list of values. */
  headers?: Record<string, string | readonly string[]> | null;
  /** Per-attempt timeout: 1 ms to 5 min; 0 or unset: 1 s (distribution's default). */
  timeout?: Duration | null;
  /** Breaker: failures before backing off, 1 to 1000; 0 or unset: 10. */
  threshold?: number | null;
  /** Breaker: wait after `threshold` failures, 1 ms to 1 h; 0 or unset: 1 s. */
  backoff?: Duration | null;
  ignoredmediatypes?: readonly string[] | null;
  ignore?: {
    mediatypes?: readonly string[] | null;
    actions?: readonly EventAction[] | null;
  } | null;
  /** A Standard Webhooks secret (`whsec_...`) or several (rotation). */
  secret?: string | readonly string[] | null;
  /** Attempts before an event is dead, 1 to 1000; 0: unlimited; unset: the consumer's default. */
  maxAttempts?: number | null;
  /**
   * Age at which an event is dead, 1 ms to 720 h (30 days); 0: unlimited; unset: the
   * consumer's default.
   */
  maxAge?: Duration | null;
  /** Events per POST, 1 to 1000 (default 1). */
  maxBatch?: number | null;
  /**
   * Retry strategy. `breaker`: `threshold` and `backoff` as above (0 or unset: the top-level
   * values). `exponential`: `base` 0 to 1 h (default 1 s); `factor` and `max` 1 ms to 1 h
   * (0 or unset: 1 s and 20 s).
   */
  strategy?:
    | { type: "breaker"; threshold?: number | null; backoff?: Duration | null }
    | {
        type: "exponential";
        base?: Duration | null;
        factor?: Duration | null;
        max?: Duration | null;
      }
    | null;
  /** Parallel FIFO queues, by repository, 1 to 100 (default 1). */
  partitions?: number | null;
  mediaType?: EnvelopeMediaType | null;
  /** In-memory queue capacity in events, 1 to 1,000,000 (default: unbounded). */
  capacity?: number | null;
  overflow?: OverflowPolicy | null;
}

/**
 * What {@link parseEndpointConfig} accepts (distribution's YAML keys plus ours).
 *
 * @example
 * ```ts
 * import type { EndpointConfigInput } from "registry-relay";
 * const input: EndpointConfigInput = { url: "https://hooks.example.com/in", timeout: "2s", ignore: { actions: ["pull"] } };
 * ```
 */
export type EndpointConfigInput = ConfigKeys<string | number>;

// ---------------------------------------------------------------------------------------------
// Rules: each checks the value at `path`, reports what is wrong and returns the value to keep.

/** Where a value sits: keys and array indices from the root. */
type Path = readonly (string | number)[];
type Report = (path: Path, message: string) => undefined;
type Rule = (value: unknown, path: Path, report: Report) => unknown;

const mappingMessage = "must be a mapping of keys to values";
const durationMessage = 'must be a duration such as "1s" or a number of milliseconds';

/** A YAML mapping / JSON object (not an array). */
const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && Array.from(value).every((item) => typeof item === "string");

/** A value `accepts` takes as it is. */
const valueWhere =
  (accepts: (value: unknown) => boolean, message: string): Rule =>
  (value, path, report) =>
    accepts(value) ? value : report(path, message);

/** A string that passes `accepts`. */
const textWhere =
  (accepts: (text: string) => boolean, message: string): Rule =>
  (value, path, report) => {
    if (typeof value !== "string") return report(path, "must be a string");
    if (!accepts(value)) report(path, message);
    return value;
  };

const listOf =
  (item: Rule, message: string): Rule =>
  (value, path, report) =>
    Array.isArray(value)
      ? Array.from(value, (entry, index) => item(entry, [...path, index], report))
      : report(path, message);

const integer = valueWhere(Number.isInteger, "must be an integer");

/** A duration in ms (bounds come from `boundedDuration`). */
const duration: Rule = (value, path, report) => {
  if (typeof value !== "string" && (typeof value !== "number" || Number.isNaN(value))) {
    return report(path, durationMessage);
  }
  try {
    return parseDuration(value);
  } catch (error) {
    return report(path, (error as ConfigError).reason);
  }
};

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/**
 * The bounds of one number (durations in ms): `min` to `max`, described by `range`; `zero` is
 * what an explicit 0 means when 0 is allowed outside the range (distribution's "0 means the
 * default", or "unlimited"). A value past the bounds is a unit or typing mistake that would do
 * harm (a 1000 h timeout holds the endpoint's FIFO queue 1000 h), so it is refused.
 */
interface Bound {
  min: number;
  max: number;
  range: string;
  zero?: string;
  hint?: string;
}

/** Out-of-range message: the key's bounds, never the value (it may sit next to secrets). */
function outOfRange(value: number, { min, range, zero, hint }: Bound): string {
  const allowed = `${zero ? `0 (${zero}) or ` : ""}${range}${hint ? `; ${hint}` : ""}`;
  // "Negative" only where 0 is valid; elsewhere the range says it all ("an integer >= 1").
  return value < 0 && (zero !== undefined || min === 0)
    ? `must not be negative; allowed: ${allowed}`
    : `must be ${allowed}`;
}

const within = (value: number, bound: Bound): boolean =>
  (value === 0 && bound.zero !== undefined) || (value >= bound.min && value <= bound.max);

const boundedDuration =
  (bound: Bound): Rule =>
  (value, path, report) => {
    const ms = duration(value, path, report);
    if (typeof ms === "number" && !within(ms, bound)) report(path, outOfRange(ms, bound));
    return ms;
  };

const boundedInteger =
  (bound: Bound): Rule =>
  (value, path, report) => {
    if (integer(value, path, report) === undefined) return undefined;
    if (!within(value as number, bound)) report(path, outOfRange(value as number, bound));
    return value;
  };

/** Bounds, with why. Keep the JSDoc of ConfigKeys and the README in step. */
const bounds = {
  // A hanging receiver holds the endpoint's FIFO queue for the whole timeout; 5 min is far
  // above any sane webhook. Sub-ms values are unit mistakes ("500us" for "500ms").
  timeout: { min: 1, max: 5 * minute, range: "1ms to 5m", zero: "the default, 1s" },
  // The first `threshold` failed attempts of a streak go back to back: past 1000 the breaker
  // hardly ever opens. Registries document 5 to 10.
  threshold: { min: 1, max: 1000, range: "1 to 1000", zero: "the default, 10" },
  // Past an hour a recovered receiver waits too long and the queue looks dead.
  backoff: { min: 1, max: hour, range: "1ms to 1h", zero: "the default, 1s" },
  strategyThreshold: { min: 1, max: 1000, range: "1 to 1000", zero: "the endpoint's threshold" },
  strategyBackoff: { min: 1, max: hour, range: "1ms to 1h", zero: "the endpoint's backoff" },
  base: { min: 0, max: hour, range: "0 to 1h" },
  factor: { min: 1, max: hour, range: "1ms to 1h", zero: "the default, 1s" },
  max: { min: 1, max: hour, range: "1ms to 1h", zero: "the default, 20s" },
  // Beyond 1000 attempts the limit that matters is maxAge; 0 is the explicit "no limit".
  maxAttempts: {
    min: 1,
    max: 1000,
    range: "1 to 1000",
    zero: "unlimited",
    hint: "to retry longer, use 0 and bound it with maxAge",
  },
  // A month-old registry event is stale; 0 is the explicit "no limit".
  maxAge: { min: 1, max: 720 * hour, range: "1ms to 720h (30 days)", zero: "unlimited" },
  // 1000 events of ~1 KB is about the 1 MiB body limit receivers (and the relay) default to.
  maxBatch: { min: 1, max: 1000, range: "an integer >= 1 (at most 1000)" },
  // Each partition is a concurrent delivery loop against one receiver (in the relay, a Durable
  // Object the admin API and /metrics fan out to).
  partitions: { min: 1, max: 100, range: "an integer >= 1 (at most 100)" },
  // An in-memory queue: a million ~1 KB events is already about 1 GB.
  capacity: { min: 1, max: 1_000_000, range: "an integer >= 1 (at most 1000000)" },
} satisfies Record<string, Bound>;

const isHttpUrl = (text: string): boolean => {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
};

// A fragment is never sent (HttpSink drops it), so one in a target URL is a mistake.
const endpointUrl: Rule = (value, path, report) => {
  if (typeof value !== "string") return report(path, "must be a string");
  if (!isHttpUrl(value)) report(path, "must be an absolute http or https URL");
  else if (value.includes("#")) report(path, "must not have a #fragment (it is never sent)");
  return value;
};

const headerValue = textWhere((text) => !/[\r\n\0]/.test(text), "must not contain CR, LF or NUL");

const headers: Rule = (value, path, report) => {
  if (!isMapping(value)) return report(path, "must be a map of header names to lists of values");
  const kept: Record<string, unknown> = {};
  for (const name in value) {
    // As valibot's record: own keys only, never ones that could reach a prototype.
    if (!Object.hasOwn(value, name) || ["__proto__", "prototype", "constructor"].includes(name))
      continue;
    const at = [...path, name];
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) report(at, "is not a valid header name");
    const values = value[name];
    if (typeof values === "string") kept[name] = headerValue(values, at, report);
    else if (isStringList(values)) {
      kept[name] = values.map((item, index) => headerValue(item, [...at, index], report));
    } else report(at, "must be a string or a list of strings");
  }
  return kept;
};

const mediaTypeList = listOf(
  textWhere(
    (text) => /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*$/.test(text),
    "must be a media type such as application/octet-stream",
  ),
  "must be a list of media types",
);

const secretBytes = (value: string): number | undefined => {
  const key = value.startsWith("whsec_") ? value.slice("whsec_".length) : value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 === 1) return undefined;
  try {
    return atob(key).length;
  } catch {
    return undefined;
  }
};

const secret = textWhere(
  (text) => secretBytes(text) !== undefined,
  "must be whsec_ followed by base64 (a Standard Webhooks secret)",
);

const secrets: Rule = (value, path, report) => {
  const one = (text: string, at: Path) => {
    const bytes = secretBytes(text);
    if (bytes !== undefined && (bytes < 24 || bytes > 64)) {
      report(at, "must decode to 24 to 64 bytes (Standard Webhooks)");
    }
    return secret(text, at, report);
  };
  if (typeof value === "string") return one(value, path);
  if (!isStringList(value))
    return report(path, "must be a secret (whsec_...) or a list of secrets");
  if (value.length === 0) report(path, "must list at least one secret");
  return value.map((text, index) => one(text, [...path, index]));
};

/** Compares keys ignoring case, punctuation and a plural s, to suggest the intended key. */
const loose = (key: string) =>
  key
    .toLowerCase()
    .replace(/[^a-z]/g, "")
    .replace(/s$/, "");

let known: Map<string, string> | undefined;

/** A mapping of exactly these keys (`null` or `undefined` values: not set). */
const strictObject =
  (rules: Record<string, Rule>): Rule =>
  (value, path, report) => {
    if (!isMapping(value)) return report(path, mappingMessage);
    const kept: Record<string, unknown> = {};
    for (const key in rules) {
      if (!(key in value)) continue;
      const item = value[key];
      kept[key] = item == null ? item : (rules[key] as Rule)(item, [...path, key], report);
    }
    for (const key in value) {
      if (Object.hasOwn(rules, key)) continue;
      known ??= new Map(
        [...Object.keys(entries), "mediatypes", "actions", "type", "base", "factor", "max"].map(
          (name) => [loose(name), name],
        ),
      );
      const suggestion = known.get(loose(key));
      const hint = suggestion && suggestion !== key ? ` (did you mean "${suggestion}"?)` : "";
      report([...path, key], `unknown key${hint}`);
      break; // one unknown key per mapping is enough to see what is wrong
    }
    return kept;
  };

const same: Rule = (value) => value;

const strategies: Record<string, Rule> = {
  breaker: strictObject({
    type: same,
    threshold: boundedInteger(bounds.strategyThreshold),
    backoff: boundedDuration(bounds.strategyBackoff),
  }),
  exponential: strictObject({
    type: same,
    base: boundedDuration(bounds.base),
    factor: boundedDuration(bounds.factor),
    max: boundedDuration(bounds.max),
  }),
};

const entries: Record<string, Rule> = {
  name: textWhere(() => true, ""),
  disabled: valueWhere((value) => typeof value === "boolean", "must be true or false"),
  url: endpointUrl,
  headers,
  timeout: boundedDuration(bounds.timeout),
  threshold: boundedInteger(bounds.threshold),
  backoff: boundedDuration(bounds.backoff),
  ignoredmediatypes: mediaTypeList,
  ignore: strictObject({
    mediatypes: mediaTypeList,
    actions: listOf(
      valueWhere(
        (value) => knownActions.includes(value),
        'must be one of "pull", "push", "mount", "delete"',
      ),
      "must be a list of actions",
    ),
  }),
  secret: secrets,
  maxAttempts: boundedInteger(bounds.maxAttempts),
  maxAge: boundedDuration(bounds.maxAge),
  maxBatch: boundedInteger(bounds.maxBatch),
  strategy: (value, path, report) => {
    if (!isMapping(value)) return report(path, mappingMessage);
    const { type } = value;
    if (type === "breaker" || type === "exponential")
      return strategies[type]?.(value, path, report);
    return report([...path, "type"], 'must be "breaker" or "exponential"');
  },
  partitions: boundedInteger(bounds.partitions),
  mediaType: valueWhere(
    (value) => mediaTypes.includes(value),
    `must be ${mediaTypes.join(" or ")}`,
  ),
  capacity: boundedInteger(bounds.capacity),
  overflow: valueWhere(
    (value) => value === "reject" || value === "drop-oldest",
    'must be "reject" or "drop-oldest"',
  ),
};

/** Distribution's rule for timeout, threshold and backoff: missing or 0 means the default. */
const orDefault = (value: number | null | undefined, fallback: number): number =>
  value != null && value > 0 ? value : fallback;

function normalize(raw: ConfigKeys<number>) {
  const threshold = orDefault(raw.threshold, defaults.threshold);
  const backoff = orDefault(raw.backoff, defaults.backoff);
  const chosen = raw.strategy;
  const retry =
    chosen?.type === "exponential"
      ? {
          type: "exponential" as const,
          base: chosen.base ?? defaults.exponential.base,
          factor: orDefault(chosen.factor, defaults.exponential.factor),
          max: orDefault(chosen.max, defaults.exponential.max),
        }
      : {
          type: "breaker" as const,
          threshold: orDefault(chosen?.threshold, threshold),
          backoff: orDefault(chosen?.backoff, backoff),
        };
  const headerLists: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(raw.headers ?? {})) {
    headerLists[name] = typeof values === "string" ? [values] : [...values];
  }
  const ignoredMediaTypes = [...(raw.ignoredmediatypes ?? []), ...(raw.ignore?.mediatypes ?? [])];
  return {
    ...(raw.name != null && { name: raw.name }),
    ...(raw.url != null && { url: raw.url }),
    disabled: raw.disabled ?? false,
    headers: headerLists,
    timeout: orDefault(raw.timeout, defaults.timeout),
    threshold,
    backoff,
    ignore: {
      mediatypes: [...new Set(ignoredMediaTypes)],
      actions: [...new Set(raw.ignore?.actions ?? [])],
    },
    ...(raw.secret != null && { secret: [raw.secret].flat() }),
    ...(raw.maxAttempts != null && { maxAttempts: raw.maxAttempts }),
    ...(raw.maxAge != null && { maxAge: raw.maxAge }),
    maxBatch: raw.maxBatch ?? defaults.maxBatch,
    strategy: retry,
    partitions: raw.partitions ?? defaults.partitions,
    mediaType: raw.mediaType ?? EventsMediaType,
    ...(raw.capacity != null && { capacity: raw.capacity }),
    overflow: raw.overflow ?? "reject",
  };
}

/**
 * A normalised endpoint configuration (durations in ms, defaults applied, every number within
 * the bounds {@link parseEndpointConfig} enforces). `maxAttempts` and `maxAge` are present only
 * when the input set them: absent means "not set" (a consumer applies its own default; the
 * relay's is a 3-day `maxAge`), `0` means explicitly unlimited. `timeout`, `threshold` and
 * `backoff` are never 0: 0 in the input means distribution's default.
 *
 * @example
 * ```ts
 * import { parseEndpointConfig, type EndpointConfig } from "registry-relay";
 * const config: EndpointConfig = parseEndpointConfig({ url: "https://hooks.example.com/in" });
 * config.timeout; // 1000
 * ```
 */
export type EndpointConfig = ReturnType<typeof normalize>;

/** Checks a configuration: the normalised result, or every problem with its path. */
function checkConfig(input: unknown): {
  config?: EndpointConfig;
  issues: { path: Path; message: string }[];
} {
  const issues: { path: Path; message: string }[] = [];
  const raw = strictObject(entries)(input, [], (path, message) => {
    issues.push({ path, message });
    return undefined;
  });
  return issues.length > 0 ? { issues } : { config: normalize(raw as ConfigKeys<number>), issues };
}

/**
 * The schema of one endpoint's configuration (valibot, hence Standard Schema): unknown keys are
 * rejected, the output is normalised (defaults applied, durations in ms, headers as lists, both
 * ignore lists merged). The output is itself valid input (parsing is idempotent).
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EndpointConfigSchema } from "registry-relay";
 * const result = v.safeParse(EndpointConfigSchema, { url: "https://hooks.example.com/in" });
 * ```
 */
// The annotations let bundlers drop the schema when only `parseEndpointConfig` is used.
export const EndpointConfigSchema = /* @__PURE__ */ v.pipe(
  /* @__PURE__ */ v.unknown(),
  /* @__PURE__ */ v.rawTransform<unknown, EndpointConfig>(({ dataset, addIssue, NEVER }) => {
    const { config, issues } = checkConfig(dataset.value);
    for (const { path, message } of issues) {
      const items = path.map((key) => ({
        type: "unknown" as const,
        origin: "value" as const,
        input: undefined,
        key,
        value: undefined,
      }));
      addIssue({ message, ...(items.length > 0 && { path: items as [(typeof items)[0]] }) });
    }
    return config ?? NEVER;
  }),
);

/**
 * Validates and normalises one endpoint's configuration: distribution's keys (`name`,
 * `disabled`, `url`, `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`,
 * `ignore.mediatypes`, `ignore.actions`) and ours (`secret`, `maxAttempts`, `maxAge`,
 * `maxBatch`, `strategy`, `partitions`, `mediaType`, `capacity`, `overflow`). Durations are Go
 * strings or ms. Throws {@link ConfigError} naming the key; unknown keys are errors.
 *
 * Bounds (a value outside them, negative included, is an error naming the key and its range):
 * `timeout` 1ms–5m and `threshold` 1–1000, `backoff` 1ms–1h, where 0 means distribution's
 * default (1s, 10, 1s); `maxAttempts` 1–1000 and `maxAge` 1ms–720h (30 days), where 0 means
 * unlimited; `maxBatch` 1–1000; `partitions` 1–100; `capacity` 1–1,000,000; exponential
 * `base` 0–1h, `factor` and `max` 1ms–1h (0: the defaults 1s and 20s). `url` must be http(s)
 * without a `#fragment`.
 *
 * @example
 * ```ts
 * import { parseEndpointConfig } from "registry-relay";
 * const config = parseEndpointConfig({
 *   url: "https://hooks.example.com/in",
 *   headers: { Authorization: ["Bearer s3cr3t"] },
 *   timeout: "2s",
 *   ignore: { mediatypes: ["application/octet-stream"], actions: ["pull"] },
 *   maxAttempts: 20,
 * });
 * config.backoff; // 1000
 * ```
 */
export function parseEndpointConfig(input: unknown): EndpointConfig {
  const { config, issues } = checkConfig(input ?? {});
  if (config) return config;
  const listed = issues.map(({ path, message }) => ({
    key: path
      .map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`))
      .join("")
      .replace(/^\./, ""),
    message,
  }));
  const [first] = listed as [ConfigIssue];
  throw new ConfigError(first.key, first.message, listed);
}

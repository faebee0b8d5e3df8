// Endpoint configuration: distribution's `notifications.endpoints[]` keys plus ours, validated
// with valibot (types inferred from the schema) and normalised with distribution's defaults.
import * as v from "valibot";
import {
  EventActionDelete,
  EventActionMount,
  EventActionPull,
  EventActionPush,
  EventsMediaType,
  EventsMediaTypeV2,
} from "./constants.ts";

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

const knownActions = [
  EventActionPull,
  EventActionPush,
  EventActionMount,
  EventActionDelete,
] as const;
const mediaTypes = [EventsMediaType, EventsMediaTypeV2] as const;
const overflows = ["reject", "drop-oldest"] as const;

const defaults = {
  timeout: 1000,
  threshold: 10,
  backoff: 1000,
  maxBatch: 1,
  partitions: 1,
  exponential: { base: 1000, factor: 1000, max: 20_000 },
} as const;

/** A YAML mapping / JSON object (valibot's object schemas would also take an array). */
const mapping = (message: string) =>
  v.custom<Record<string, unknown>>(
    (input) => typeof input === "object" && input !== null && !Array.isArray(input),
    message,
  );

const optional = <S extends v.GenericSchema>(schema: S) => v.nullish(schema);

const text = v.string("must be a string");

const duration = v.pipe(
  v.union([v.string(), v.number()], 'must be a duration such as "1s" or a number of milliseconds'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseDuration(dataset.value);
    } catch (error) {
      addIssue({ message: error instanceof ConfigError ? error.reason : String(error) });
      return NEVER;
    }
  }),
);

const positiveDuration = v.pipe(
  duration,
  v.check((ms) => ms > 0, "must be longer than 0"),
);

const nonNegativeDuration = v.pipe(
  duration,
  v.check((ms) => ms >= 0, "must not be negative"),
);

const integer = v.pipe(v.number("must be an integer"), v.integer("must be an integer"));

const positiveInteger = v.pipe(integer, v.minValue(1, "must be an integer >= 1"));

const url = v.pipe(
  text,
  v.check((value) => {
    try {
      const { protocol } = new URL(value);
      return protocol === "http:" || protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an absolute http or https URL"),
);

const headerName = v.pipe(
  v.string(),
  v.regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "is not a valid header name"),
);

const headerValue = v.pipe(
  v.string("must be a string"),
  v.check((value) => !/[\r\n\0]/.test(value), "must not contain CR, LF or NUL"),
);

const headers = v.pipe(
  mapping("must be a map of header names to lists of values"),
  v.record(
    headerName,
    v.union(
      [headerValue, v.array(headerValue, "must be a string or a list of strings")],
      "must be a string or a list of strings",
    ),
    "must be a map of header names to lists of values",
  ),
);

const mediaType = v.pipe(
  v.string("must be a string"),
  v.regex(
    /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*$/,
    "must be a media type such as application/octet-stream",
  ),
);

const mediaTypeList = v.array(mediaType, "must be a list of media types");

const actionList = v.array(
  v.picklist(knownActions, 'must be one of "pull", "push", "mount", "delete"'),
  "must be a list of actions",
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

const secret = v.pipe(
  v.string("must be a string"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const bytes = secretBytes(dataset.value);
    if (bytes === undefined) {
      addIssue({ message: "must be whsec_ followed by base64 (a Standard Webhooks secret)" });
    } else if (bytes < 24 || bytes > 64) {
      addIssue({ message: "must decode to 24 to 64 bytes (Standard Webhooks)" });
    }
  }),
);

const secrets = v.union(
  [secret, v.pipe(v.array(secret), v.minLength(1, "must list at least one secret"))],
  "must be a secret (whsec_...) or a list of secrets",
);

const strictMessage = "must be a mapping of keys to values";

const breaker = v.strictObject(
  {
    type: v.literal("breaker"),
    threshold: optional(integer),
    backoff: optional(duration),
  },
  strictMessage,
);

const exponential = v.strictObject(
  {
    type: v.literal("exponential"),
    base: optional(nonNegativeDuration),
    factor: optional(duration),
    max: optional(duration),
  },
  strictMessage,
);

const strategy = v.pipe(
  mapping(strictMessage),
  v.variant("type", [breaker, exponential], 'must be "breaker" or "exponential"'),
);

const ignore = v.pipe(
  mapping(strictMessage),
  v.strictObject(
    { mediatypes: optional(mediaTypeList), actions: optional(actionList) },
    strictMessage,
  ),
);

const entries = {
  name: optional(text),
  disabled: optional(v.boolean("must be true or false")),
  url: optional(url),
  headers: optional(headers),
  timeout: optional(duration),
  threshold: optional(integer),
  backoff: optional(duration),
  ignoredmediatypes: optional(mediaTypeList),
  ignore: optional(ignore),
  secret: optional(secrets),
  maxAttempts: optional(positiveInteger),
  maxAge: optional(positiveDuration),
  maxBatch: optional(positiveInteger),
  strategy: optional(strategy),
  partitions: optional(positiveInteger),
  mediaType: optional(v.picklist(mediaTypes, `must be ${mediaTypes.join(" or ")}`)),
  capacity: optional(positiveInteger),
  overflow: optional(v.picklist(overflows, 'must be "reject" or "drop-oldest"')),
};

/** Distribution's rule for timeout, threshold and backoff: missing or <= 0 means the default. */
const orDefault = (value: number | null | undefined, fallback: number): number =>
  value != null && value > 0 ? value : fallback;

type Raw = v.InferOutput<v.StrictObjectSchema<typeof entries, undefined>>;

function normalize(raw: Raw) {
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
 * The schema of one endpoint's configuration: unknown keys are rejected, the output is
 * normalised (defaults applied, durations in ms, headers as lists, both ignore lists merged).
 * The output is itself valid input (parsing is idempotent).
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EndpointConfigSchema } from "registry-relay";
 * const result = v.safeParse(EndpointConfigSchema, { url: "https://hooks.example.com/in" });
 * ```
 */
export const EndpointConfigSchema = v.pipe(
  mapping(strictMessage),
  v.strictObject(entries, strictMessage),
  v.transform(normalize),
);

/**
 * What {@link parseEndpointConfig} accepts (distribution's YAML keys plus ours).
 *
 * @example
 * ```ts
 * import type { EndpointConfigInput } from "registry-relay";
 * const input: EndpointConfigInput = { url: "https://hooks.example.com/in", timeout: "2s", ignore: { actions: ["pull"] } };
 * ```
 */
export type EndpointConfigInput = v.InferInput<typeof EndpointConfigSchema>;

/**
 * A normalised endpoint configuration (durations in ms, defaults applied).
 *
 * @example
 * ```ts
 * import { parseEndpointConfig, type EndpointConfig } from "registry-relay";
 * const config: EndpointConfig = parseEndpointConfig({ url: "https://hooks.example.com/in" });
 * config.timeout; // 1000
 * ```
 */
export type EndpointConfig = v.InferOutput<typeof EndpointConfigSchema>;

/** Compares keys ignoring case, punctuation and a plural s, to suggest the intended key. */
const loose = (key: string) =>
  key
    .toLowerCase()
    .replace(/[^a-z]/g, "")
    .replace(/s$/, "");

const known = new Map(
  [...Object.keys(entries), "mediatypes", "actions", "type", "base", "factor", "max"].map((key) => [
    loose(key),
    key,
  ]),
);

function keyOf(issue: v.BaseIssue<unknown>): string {
  let key = "";
  for (const item of issue.path ?? []) {
    const name = String(item.key);
    key += typeof item.key === "number" ? `[${name}]` : key ? `.${name}` : name;
  }
  return key;
}

function reasonOf(issue: v.BaseIssue<unknown>): string {
  // A strict object reports an unknown key as "expected never" at that key.
  if (issue.type === "strict_object" && issue.expected === "never") {
    const last = issue.path?.at(-1)?.key;
    const suggestion = known.get(loose(String(last)));
    return suggestion && suggestion !== last
      ? `unknown key (did you mean "${suggestion}"?)`
      : "unknown key";
  }
  return issue.message;
}

/**
 * Validates and normalises one endpoint's configuration: distribution's keys (`name`,
 * `disabled`, `url`, `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`,
 * `ignore.mediatypes`, `ignore.actions`) and ours (`secret`, `maxAttempts`, `maxAge`,
 * `maxBatch`, `strategy`, `partitions`, `mediaType`, `capacity`, `overflow`). Durations are Go
 * strings or ms. Throws {@link ConfigError} naming the key; unknown keys are errors.
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
  if (input === undefined || input === null) input = {};
  const result = v.safeParse(EndpointConfigSchema, input, { abortEarly: false });
  if (result.success) return result.output;
  const issues = result.issues.map((issue) => ({ key: keyOf(issue), message: reasonOf(issue) }));
  const first = issues[0] ?? { key: "", message: "invalid configuration" };
  throw new ConfigError(first.key, first.message, issues);
}

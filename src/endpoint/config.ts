// One endpoint's configuration: distribution's `notifications.endpoints[]` keys plus ours, checked
// key by key (keys.ts) and normalised with the defaults (sinks/defaults.ts).
// Hand-written checks, not valibot: `npm run size` measured valibot at +3 KB gzip for
// parseEndpointConfig and Endpoint; EndpointConfigSchema (config-schema.ts, `registry-relay/schema`)
// wraps these same checks for valibot users.
import type { EnvelopeMediaType, EventAction } from "../event/constants.ts";
import { endpointDefaults as defaults } from "../sinks/defaults.ts";
import type { EndpointFormat } from "../sinks/http-body.ts";
import type { MatchRules } from "../sinks/match.ts";
import type { OverflowPolicy } from "../sinks/queue.ts";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { endpointKeys } from "./keys.ts";
import type { Path } from "./rules.ts";

// parseEndpointConfig throws it: its callers catch it from here.
export { ConfigError, type ConfigIssue };

/**
 * The keys of one endpoint's configuration; `Duration` is how durations are written (input: Go
 * strings or ms; after parsing: ms). `null` is YAML's empty value and means "not set". A value
 * outside a key's bounds (negative included) is a ConfigError.
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
  /** What the endpoint receives: `distribution` envelopes (default), `cloudevents` or `cdevents`. */
  format?: EndpointFormat | null;
  /** Which events it subscribes to, by glob (see `MatchRules`); unset: every event. */
  match?: {
    repositories?: readonly string[] | null;
    tags?: readonly string[] | null;
    actions?: readonly string[] | null;
    sources?: readonly string[] | null;
  } | null;
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

/** Distribution's rule for timeout, threshold and backoff: missing or 0 means the default. */
const orDefault = (value: number | null | undefined, fallback: number): number =>
  value != null && value > 0 ? value : fallback;

function normalize(raw: ConfigKeys<number>): EndpointConfig {
  const threshold = orDefault(raw.threshold, defaults.threshold);
  const backoff = orDefault(raw.backoff, defaults.backoff);
  const chosen = raw.strategy;
  const { exponential } = defaults;
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(raw.headers ?? {})) headers[name] = [values].flat();
  const { name, url, secret, maxAttempts, maxAge, capacity } = raw;
  const match: MatchRules = {};
  for (const key of ["repositories", "tags", "actions", "sources"] as const) {
    const globs = raw.match?.[key];
    if (globs != null && globs.length > 0) match[key] = [...globs];
  }
  return {
    ...(name != null && { name }),
    ...(url != null && { url }),
    disabled: raw.disabled ?? false,
    headers,
    timeout: orDefault(raw.timeout, defaults.timeout),
    threshold,
    backoff,
    ignore: {
      mediatypes: [...new Set([raw.ignoredmediatypes ?? [], raw.ignore?.mediatypes ?? []].flat())],
      actions: [...new Set(raw.ignore?.actions)],
    },
    ...(secret != null && { secret: [secret].flat() }),
    ...(maxAttempts != null && { maxAttempts }),
    ...(maxAge != null && { maxAge }),
    maxBatch: raw.maxBatch ?? defaults.maxBatch,
    strategy:
      chosen?.type === "exponential"
        ? {
            type: "exponential" as const,
            base: chosen.base ?? exponential.base,
            factor: orDefault(chosen.factor, exponential.factor),
            max: orDefault(chosen.max, exponential.max),
          }
        : {
            type: "breaker" as const,
            threshold: orDefault(chosen?.threshold, threshold),
            backoff: orDefault(chosen?.backoff, backoff),
          },
    partitions: raw.partitions ?? defaults.partitions,
    mediaType: raw.mediaType ?? defaults.mediaType,
    ...(capacity != null && { capacity }),
    overflow: raw.overflow ?? defaults.overflow,
    format: raw.format ?? "distribution",
    ...(Object.keys(match).length > 0 && { match }),
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
export interface EndpointConfig {
  name?: string;
  url?: string;
  disabled: boolean;
  /** Header name to its values. */
  headers: Record<string, string[]>;
  /** Per-attempt timeout in ms. */
  timeout: number;
  threshold: number;
  /** In ms. */
  backoff: number;
  /** Both of distribution's ignore lists, merged. */
  ignore: { mediatypes: string[]; actions: EventAction[] };
  secret?: string[];
  maxAttempts?: number;
  /** In ms. */
  maxAge?: number;
  maxBatch: number;
  strategy:
    | { type: "exponential"; base: number; factor: number; max: number }
    | { type: "breaker"; threshold: number; backoff: number };
  partitions: number;
  mediaType: EnvelopeMediaType;
  capacity?: number;
  overflow: OverflowPolicy;
  format: EndpointFormat;
  /** Only the keys given with at least one glob. */
  match?: MatchRules;
}

/** Checks a configuration: the normalised result, or every problem with its path. */
export function checkConfig(input: unknown): {
  config?: EndpointConfig;
  issues: { path: Path; message: string }[];
} {
  const issues: { path: Path; message: string }[] = [];
  const report = (path: Path, message: string) => {
    issues.push({ path, message });
    return undefined;
  };
  const raw = endpointKeys(input, [], report) as ConfigKeys<number>;
  // CloudEvents binary mode carries one event per request.
  if (raw?.format === "cdevents") {
    if (raw.maxBatch != null && raw.maxBatch > 1) {
      report(["maxBatch"], 'must be 1 with format "cdevents" (one CDEvent per request)');
    }
    // Binary mode puts the event's attributes in ce-* headers; a configured one would join them.
    for (const name of Object.keys(raw.headers ?? {})) {
      if (/^ce-/i.test(name)) {
        report(
          ["headers", name],
          'must not be set with format "cdevents": each request sets its own ce-* headers',
        );
      }
    }
  }
  return issues.length > 0 ? { issues } : { config: normalize(raw), issues };
}

/**
 * Validates and normalises one endpoint's configuration: distribution's keys (`name`,
 * `disabled`, `url`, `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`,
 * `ignore.mediatypes`, `ignore.actions`) and ours (`secret`, `maxAttempts`, `maxAge`,
 * `maxBatch`, `strategy`, `partitions`, `mediaType`, `capacity`, `overflow`, `format`, `match`). Durations are Go
 * strings or ms; each key's bounds are on {@link EndpointConfigInput}. Throws {@link ConfigError}
 * naming the key path and the reason (for a value out of bounds: the bounds, never the value);
 * unknown keys are errors, with the known key they are a typo of.
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

// What an endpoint is made of, typed: the keys of its configuration, the normalised
// configuration, and distribution's rule for unset values (`EndpointConfig.defaults()`). Checking
// untyped input (a file, the environment) is config.ts's; an Endpoint built from typed settings
// does not carry that checker.
import type { EnvelopeMediaType, EventAction } from "../event/constants.ts";
import type { EndpointFormat, OutputFormat } from "../event/output.ts";
import { endpointDefaults as defaults } from "../sinks/defaults.ts";
import type { MatchRules } from "../sinks/match.ts";
import type { OverflowPolicy } from "../sinks/queue.ts";

/**
 * The keys of one endpoint's configuration; `Duration` is how durations are written (input: Go
 * strings or ms; after parsing: ms). `null` is YAML's empty value and means "not set". A value
 * outside a key's bounds (negative included) is a ConfigError.
 */
export interface ConfigKeys<Duration, Format = EndpointFormat> {
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
  /**
   * What the endpoint receives: `distribution` envelopes (default), `cloudevents` or `cdevents`
   * (in `EndpointSettings`, their OutputFormat objects: `outputFormats[name]`).
   */
  format?: Format | null;
  /** Which events it subscribes to, by glob (see `MatchRules`); unset: every event. */
  // `undefined` too: a normalised `match` (MatchRules) is valid settings under
  // exactOptionalPropertyTypes.
  match?: {
    repositories?: readonly string[] | null | undefined;
    tags?: readonly string[] | null | undefined;
    actions?: readonly string[] | null | undefined;
    sources?: readonly string[] | null | undefined;
  } | null;
}

/**
 * What `new Endpoint(...)` takes: the keys of an endpoint's configuration, typed, with durations
 * in ms and `format` a name or an {@link OutputFormat}; unset keys get distribution's defaults.
 * `parseEndpointConfig`'s output is one. For untyped input (a file, the environment), check it
 * with `parseEndpointConfig` first: it also takes Go durations ("2s") and names the key at fault.
 *
 * @example
 * ```ts
 * import type { EndpointSettings } from "registry-relay";
 * const settings: EndpointSettings = { timeout: 2000, maxAttempts: 20, ignore: { actions: ["pull"] } };
 * ```
 */
export type EndpointSettings = ConfigKeys<number, EndpointFormat | OutputFormat>;

/**
 * Distribution's rule for timeout, threshold and backoff: missing or 0 means the default. A
 * string (a config file's "2s" passed as it is) would then mean the default too: refused.
 */
function orDefault(keys: object | null | undefined, key: string, fallback: number): number {
  const value = (keys as Record<string, unknown> | null | undefined)?.[key];
  if (value != null && typeof value !== "number") {
    throw new TypeError(`${key} must be a number`);
  }
  return value != null && value > 0 ? value : fallback;
}

/** The keys among `keys` that `from` sets (`null` is YAML's "not set"). */
const setKeys = <T extends object, K extends keyof T>(from: T, keys: K[]) =>
  Object.fromEntries(keys.flatMap((key) => (from[key] == null ? [] : [[key, from[key]]]))) as {
    [P in K]?: NonNullable<T[P]>;
  };

/** The normalised form of checked keys: defaults applied, lists merged, durations in ms. */
export function withDefaults<Format = EndpointFormat>(
  raw: ConfigKeys<number, Format>,
): Omit<EndpointConfig, "format"> & { format: Format | "distribution" } {
  const threshold = orDefault(raw, "threshold", defaults.threshold);
  const backoff = orDefault(raw, "backoff", defaults.backoff);
  const chosen = raw.strategy;
  const { exponential } = defaults;
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(raw.headers ?? {})) headers[name] = [values].flat();
  const match: MatchRules = {};
  const globs = setKeys(raw.match ?? {}, ["repositories", "tags", "actions", "sources"]);
  for (const [key, given] of Object.entries(globs)) {
    // A lone string (JavaScript callers) is one glob, not a list of its characters.
    const list = [given].flat();
    if (list.length > 0) match[key as keyof MatchRules] = list;
  }
  return {
    ...setKeys(raw, ["name", "url", "maxAttempts", "maxAge", "capacity"]),
    disabled: raw.disabled ?? false,
    headers,
    timeout: orDefault(raw, "timeout", defaults.timeout),
    threshold,
    backoff,
    ignore: {
      mediatypes: [...new Set([raw.ignoredmediatypes ?? [], raw.ignore?.mediatypes ?? []].flat())],
      actions: [...new Set([raw.ignore?.actions ?? []].flat())],
    },
    ...(raw.secret != null && { secret: [raw.secret].flat() }),
    maxBatch: raw.maxBatch ?? defaults.maxBatch,
    strategy:
      chosen?.type === "exponential"
        ? {
            type: "exponential" as const,
            base: chosen.base ?? exponential.base,
            factor: orDefault(chosen, "factor", exponential.factor),
            max: orDefault(chosen, "max", exponential.max),
          }
        : {
            type: "breaker" as const,
            threshold: orDefault(chosen, "threshold", threshold),
            backoff: orDefault(chosen, "backoff", backoff),
          },
    partitions: raw.partitions ?? defaults.partitions,
    mediaType: raw.mediaType ?? defaults.mediaType,
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
 * import { type EndpointConfig } from "registry-relay";
 * import { parseEndpointConfig } from "registry-relay/config";
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

// The sink that POSTs envelopes to a receiver (distribution's `httpSink`), with what upstream
// lacks: batching, Standard Webhooks signing, Retry-After, errors that never leak secrets, and
// pre-encoded events (a registry's own bytes) sent as they are. The POSTs are http-post.ts's.

import type { EnvelopeMediaType } from "../event/constants.ts";
import { distributionFormat, type EndpointFormat, type OutputFormat } from "../event/output.ts";
import { type EncodedEvent, frameEncoded, parsedText } from "../event/raw.ts";
import type { Event } from "../event/schema.ts";
import { endpointDefaults as defaults } from "./defaults.ts";
import { type Follow, HttpPost } from "./http-post.ts";
import type { HttpHeaders } from "./http-request.ts";
import { EndpointMetrics } from "./metrics.ts";
import type { Sink } from "./sink.ts";
import type { Clock } from "./strategies.ts";

export {
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpStatusError,
  HttpTransportError,
  redactUrl,
} from "./http-errors.ts";
export type { HttpHeaders } from "./http-request.ts";
export { parseRetryAfter } from "./http-response.ts";

/**
 * Options of {@link HttpSink}. Durations are milliseconds.
 *
 * @example
 * ```ts
 * import type { HttpSinkOptions } from "registry-relay";
 * const options: HttpSinkOptions = { timeout: 5000, headers: { Authorization: "Bearer s3cr3t" }, maxBatch: 10 };
 * ```
 */
export interface HttpSinkOptions {
  headers?: HttpHeaders;
  /** Per attempt, including reading (part of) the response body. ≤ 0 or missing: 1000. */
  timeout?: number;
  /** Default: the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Which envelope line to send (content type and encoding). Default {@link EventsMediaType}. */
  mediaType?: EnvelopeMediaType;
  /**
   * What to send: `distribution` envelopes (the default), or an {@link OutputFormat} such as
   * registry-relay/formats' `cloudEventsFormat` (CloudEvents 1.0 in structured mode,
   * `application/cloudevents-batch+json` when `maxBatch` > 1) or `cdEventsFormat` (CDEvents 0.5.1
   * in CloudEvents binary mode, one event per POST: `maxBatch` must be 1; an event with no
   * CDEvents type fails with {@link HttpEncodeError}). The names `cloudevents` and `cdevents`
   * alone are a TypeError saying so: their encoders are not bundled unless imported.
   */
  format?: EndpointFormat | OutputFormat;
  /** Standard Webhooks secret(s) (`whsec_...`): every POST gets `webhook-*` headers. */
  secret?: string | readonly string[];
  /** Most events per POST (default 1: one event per request, as distribution). */
  maxBatch?: number;
  /** Where attempts are counted (default: a fresh {@link EndpointMetrics}, see `metrics`). */
  metrics?: EndpointMetrics;
  /** Clock for signature timestamps and `Retry-After` dates (default `Date.now`). */
  now?: Clock;
  /**
   * Redirects are never followed by default: a 3xx fails the attempt with
   * {@link HttpRedirectError}. `"same-origin"` follows a 307 or 308 whose `Location` has the
   * endpoint's origin (same method, body and headers), at most 3 hops per attempt. Browsers hide
   * redirects from scripts, so there it cannot follow anything.
   */
  followRedirects?: "never" | "same-origin";
}

/**
 * `followRedirects: "same-origin"`: a 307 or 308 to the endpoint's own origin, without userinfo,
 * at most 3 hops per attempt (same method, body and headers).
 */
const sameOrigin: Follow = (status, location, hops, target) =>
  (status === 307 || status === 308) &&
  hops < 3 &&
  location.origin === new URL(target).origin &&
  !location.username &&
  !location.password;

/**
 * POSTs events to `url` as envelopes (`content-type` = the media type), `maxBatch` events per
 * POST, in order, one POST at a time. A 200–299 is success; anything else rejects with
 * {@link HttpStatusError}, no status with {@link HttpTransportError}, a request that could not be
 * built (nothing sent) with {@link HttpRequestError}. Redirects are not followed (unlike
 * upstream): a 3xx rejects with {@link HttpRedirectError} carrying the status and the redacted
 * `Location` (see `followRedirects` for same-origin 307/308). Each attempt has its own
 * `timeout`. With `secret`, each POST carries Standard Webhooks headers: `webhook-id` is the
 * event id when it is a safe token (1–256 ASCII letters, digits and `_-:+/=@~`), else
 * `evt_` + the first 32 hex digits of the id's SHA-256 (an id with `.`, spaces, CR, LF, NUL or
 * non-ASCII characters); a batch gets `batch_` + a digest of its ids. Either way it is stable
 * across retries; the timestamp is the attempt's. URL userinfo is sent as Basic auth, like Go.
 * `writeEncoded` takes events already encoded (`eventTexts`: a registry's own bytes) and sends
 * each text as it is when it is on this sink's line.
 * Header values are checked at construction (a value the runtime would refuse throws there, not
 * at every POST). Header values and secrets never appear in errors, metrics, `toString` or JSON.
 *
 * @example
 * ```ts
 * import { HttpSink } from "registry-relay";
 * const sink = new HttpSink("https://hooks.example.com/registry", {
 *   headers: { Authorization: "Bearer s3cr3t" },
 *   timeout: 5000,
 * });
 * await sink.write(event);
 * sink.metrics.snapshot().statuses; // { "200 OK": 1 }
 * ```
 */
export class HttpSink implements Sink<Event> {
  // `declare`: assigned in the constructor, no field initialiser emitted.
  declare readonly mediaType: EnvelopeMediaType;
  /** The output format's name. */
  declare readonly format: string;
  declare readonly timeout: number;
  declare readonly maxBatch: number;
  declare readonly metrics: EndpointMetrics;
  readonly #post: HttpPost;
  readonly #signed: boolean;

  constructor(url: string | URL, options: HttpSinkOptions = {}) {
    const { maxBatch = defaults.maxBatch, mediaType = defaults.mediaType, secret } = options;
    const timeout = options.timeout ?? 0;
    if (Number.isNaN(timeout)) throw new RangeError("httpSink: timeout must be a number of ms");
    this.#signed = secret !== undefined;
    const follow = options.followRedirects ?? "never";
    if (follow !== "never" && follow !== "same-origin") {
      throw new TypeError(`httpSink: followRedirects must be "never" or "same-origin"`);
    }
    this.timeout = timeout > 0 ? timeout : defaults.timeout;
    this.maxBatch = maxBatch;
    this.mediaType = mediaType;
    this.metrics = options.metrics ?? new EndpointMetrics();
    this.#post = new HttpPost(
      url,
      { ...options, timeout: this.timeout, maxBatch, mediaType, metrics: this.metrics },
      follow === "never" ? undefined : sameOrigin,
    );
    this.format = this.#post.format.name;
  }

  write(...events: Event[]): Promise<void> {
    return this.#post.write(...events);
  }

  /**
   * Like `write`, for events already encoded ({@link EncodedEvent}, e.g. from `eventTexts`): a
   * text whose `mediaType` is this sink's is sent as it is, spliced into distribution's envelope
   * frame with the others of its POST (`frameEnvelope`); any other is parsed and written on this
   * sink's line, as `write` would. For `cloudevents` and `cdevents` every text is parsed and
   * written as `write` would. A text that is not JSON fails the write with
   * {@link HttpEncodeError}.
   */
  writeEncoded(...events: EncodedEvent[]): Promise<void> {
    if (this.#post.format === distributionFormat) {
      return this.#post.send(events, (batch) => frameEncoded(batch, this.mediaType));
    }
    const { eventsBody } = this.#post;
    return this.#post.send(events, (batch) =>
      eventsBody(batch.map(({ text }, k) => parsedText(text, k) as Event)),
    );
  }

  /** Waits for POSTs already accepted, then refuses new writes. Idempotent. */
  close(): Promise<void> {
    return this.#post.close();
  }

  toString(): string {
    return this.#post.toString();
  }

  toJSON(): Record<string, unknown> {
    const post = this.#post;
    return {
      url: post.url,
      mediaType: this.mediaType,
      format: this.format,
      timeout: this.timeout,
      maxBatch: this.maxBatch,
      headers: [...new Set(post.headers.map(([name]) => name))],
      signed: this.#signed,
    };
  }
}

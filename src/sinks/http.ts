// The sink that POSTs envelopes to a receiver (distribution's `httpSink`), with what upstream
// lacks: batching, Standard Webhooks signing, Retry-After, errors that never leak secrets, and
// pre-encoded events (a registry's own bytes) sent as they are.

import { type EnvelopeMediaType, EventsMediaType, EventsMediaTypeV2 } from "../event/constants.ts";
import { encodeEnvelope } from "../event/encode.ts";
import { type EncodedEvent, frameEncoded } from "../event/raw.ts";
import type { Event } from "../event/schema.ts";
import { signWebhook } from "../webhooks/webhooks.ts";
import { endpointDefaults } from "./defaults.ts";
import {
  describe,
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpStatusError,
  HttpTransportError,
} from "./http-errors.ts";
import {
  checkSecrets,
  type HeaderPair,
  type HttpHeaders,
  messageId,
  printable,
  type RequestSetup,
  requestSetup,
  scrub,
  transportError,
} from "./http-request.ts";
import { discard, parseRetryAfter, resolveLocation } from "./http-response.ts";
import { EndpointMetrics } from "./metrics.ts";
import { type Sink, SinkClosedError } from "./sink.ts";
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

const ignore = () => undefined;
/**
 * Attempts that share one abort controller. Node's fetch keeps a listener on the signal per
 * request until GC, so a bound keeps that list short.
 */
const controllerUses = 16;
/** Same-origin redirects followed per attempt at most (with `followRedirects: "same-origin"`). */
const maxRedirectHops = 3;

/** Builds the body of one POST from its batch (throws when it cannot be encoded). */
type BodyOf<T> = (batch: T[]) => string;

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
  readonly mediaType: EnvelopeMediaType;
  readonly timeout: number;
  readonly maxBatch: number;
  readonly metrics: EndpointMetrics;
  /** The URL, headers and values to mask of every POST (built once). */
  readonly #request: RequestSetup;
  readonly #encodeOptions: { mediaType: EnvelopeMediaType };
  readonly #secret: string | readonly string[] | undefined;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #now: Clock;
  readonly #followSameOrigin: boolean;
  #tail: Promise<unknown> = Promise.resolve();
  /** The abort controller of recent attempts (see {@link #attemptController}). */
  #controller: AbortController | undefined;
  #controllerUses = 0;
  /** Writes accepted and not finished: at 0 the next write starts at once. */
  #active = 0;
  #closing: Promise<void> | undefined;

  constructor(url: string | URL, options: HttpSinkOptions = {}) {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new TypeError("httpSink: url must be an absolute http(s) URL");
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      throw new TypeError(`httpSink: url must use http or https, not ${target.protocol}`);
    }
    const { maxBatch = endpointDefaults.maxBatch, mediaType = endpointDefaults.mediaType } =
      options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`httpSink: maxBatch must be an integer >= 1, got ${maxBatch}`);
    }
    if (mediaType !== EventsMediaType && mediaType !== EventsMediaTypeV2) {
      throw new TypeError(`httpSink: mediaType must be an envelope media type, got ${mediaType}`);
    }
    const timeout = options.timeout ?? 0;
    if (Number.isNaN(timeout)) throw new RangeError("httpSink: timeout must be a number of ms");
    this.timeout = timeout > 0 ? timeout : endpointDefaults.timeout;
    this.maxBatch = maxBatch;
    this.mediaType = mediaType;
    this.metrics = options.metrics ?? new EndpointMetrics();
    this.#encodeOptions = { mediaType };
    this.#request = requestSetup(target, options.headers, options.secret, mediaType);
    this.#secret = checkSecrets(options.secret);
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
    const follow = options.followRedirects ?? "never";
    if (follow !== "never" && follow !== "same-origin") {
      throw new TypeError(`httpSink: followRedirects must be "never" or "same-origin"`);
    }
    this.#followSameOrigin = follow === "same-origin";
  }

  write(...events: Event[]): Promise<void> {
    return this.#start(events, this.#encode);
  }

  /**
   * Like `write`, for events already encoded ({@link EncodedEvent}, e.g. from `eventTexts`): a
   * text whose `mediaType` is this sink's is sent as it is, spliced into distribution's envelope
   * frame with the others of its POST (`frameEnvelope`); any other is parsed and written on this
   * sink's line, as `write` would. A text that is not JSON fails the write with
   * {@link HttpEncodeError}.
   */
  writeEncoded(...events: EncodedEvent[]): Promise<void> {
    return this.#start(events, this.#frame);
  }

  #start<T extends { id: unknown }>(items: T[], bodyOf: BodyOf<T>): Promise<void> {
    if (this.#closing) return Promise.reject(new SinkClosedError(this.toString()));
    // Single flight, as upstream: one POST at a time, in write order. An idle sink starts at
    // once instead of waiting a turn behind a settled chain.
    const idle = this.#active === 0;
    this.#active++;
    const run = idle
      ? this.#deliver(items, bodyOf)
      : this.#tail.then(() => this.#deliver(items, bodyOf));
    this.#tail = run.catch(ignore);
    return run;
  }

  /** The body of a batch of events. */
  readonly #encode: BodyOf<Event> = (events) => encodeEnvelope({ events }, this.#encodeOptions);

  /** The body of a batch of encoded events: texts of this line as they are, others re-encoded. */
  readonly #frame: BodyOf<EncodedEvent> = (events) => frameEncoded(events, this.mediaType);

  /** Waits for POSTs already accepted, then refuses new writes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => undefined);
    return this.#closing;
  }

  toString(): string {
    return `httpSink{${this.#request.redacted}}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      url: this.#request.redacted,
      mediaType: this.mediaType,
      timeout: this.timeout,
      maxBatch: this.maxBatch,
      headers: [...new Set(this.#request.headers.map(([name]) => name))],
      signed: this.#secret !== undefined,
    };
  }

  async #deliver<T extends { id: unknown }>(items: T[], bodyOf: BodyOf<T>): Promise<void> {
    try {
      if (items.length <= this.maxBatch) {
        if (items.length > 0) await this.#post(items, bodyOf);
        return;
      }
      let delivered = 0;
      for (let start = 0; start < items.length; start += this.maxBatch) {
        const batch = items.slice(start, start + this.maxBatch);
        try {
          await this.#post(batch, bodyOf);
        } catch (error) {
          if (
            delivered > 0 &&
            (error instanceof HttpStatusError ||
              error instanceof HttpTransportError ||
              error instanceof HttpRequestError)
          ) {
            error.delivered = delivered;
          }
          throw error;
        }
        delivered += batch.length;
      }
    } finally {
      this.#active--;
    }
  }

  async #post<T extends { id: unknown }>(batch: T[], bodyOf: BodyOf<T>): Promise<void> {
    let body: string;
    try {
      body = bodyOf(batch);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new HttpEncodeError(detail, { sink: this.toString(), cause: error });
    }
    // Everything the request carries is built and checked before fetch: a failure here is ours
    // and would recur (final), while anything fetch throws is the network's (retried).
    let headers: HeaderPair[];
    // A fresh outer array per request: a custom `fetch` may keep or change what it is given.
    if (this.#secret === undefined) headers = this.#request.requestHeaders.slice();
    else {
      try {
        headers = await this.#signedHeaders(this.#secret, batch, body);
      } catch (error) {
        throw new HttpRequestError(
          `cannot sign the request: ${scrub(describe(error), this.#request)}`,
          {
            sink: this.toString(),
            cause: error,
          },
        );
      }
    }
    const controller = this.#attemptController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeout);
    try {
      let url = this.#request.target;
      for (let hops = 0; ; hops++) {
        let response: Response;
        try {
          response = await this.#fetch(url, {
            method: "POST",
            headers,
            body,
            redirect: "manual",
            signal: controller.signal,
          });
        } catch (error) {
          this.metrics.error();
          const sink = this.toString();
          throw transportError(error, {
            sink,
            timedOut,
            timeout: this.timeout,
            request: this.#request,
          });
        }
        await discard(response);
        const { status } = response;
        if (status >= 200 && status < 300) {
          this.metrics.success(status);
          return;
        }
        // (Typed loosely: Workers' types know only "default" and "error".)
        if ((response as { type?: string }).type === "opaqueredirect") {
          // A browser: some redirect, status and Location hidden. No status to count.
          this.metrics.error();
          throw new HttpRedirectError(0, { sink: this.toString() });
        }
        const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.#now());
        if (status >= 300 && status < 400) {
          const location = resolveLocation(response.headers.get("location"), url);
          if (this.#mayFollow(status, location, hops)) {
            url = (location as URL).href;
            continue;
          }
          this.metrics.failure(status);
          throw new HttpRedirectError(status, {
            sink: this.toString(),
            ...(location !== undefined && { location: location.href }),
            ...(retryAfterMs !== undefined && { retryAfterMs }),
          });
        }
        this.metrics.failure(status);
        throw new HttpStatusError(status, { sink: this.toString(), retryAfterMs });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The headers of one signed POST: the fixed ones and a fresh, checked signature. */
  async #signedHeaders(
    secret: string | readonly string[],
    events: readonly { id: unknown }[],
    body: string,
  ): Promise<HeaderPair[]> {
    const signed = await signWebhook({
      secret,
      id: await messageId(events),
      timestamp: Math.floor(this.#now() / 1000),
      body,
    });
    const pairs = Object.entries(signed);
    for (const [name, value] of pairs) {
      if (!printable.test(value)) throw new TypeError(`${name} is not a valid header value`);
    }
    // As `Headers.set`: the signature headers replace configured ones of the same name.
    return [...this.#request.unsignedHeaders, ...pairs];
  }

  /** Whether to follow this redirect: opted in, 307/308, same origin, hops left. */
  #mayFollow(status: number, location: URL | undefined, hops: number): boolean {
    return (
      this.#followSameOrigin &&
      (status === 307 || status === 308) &&
      location !== undefined &&
      hops < maxRedirectHops &&
      location.origin === new URL(this.#request.target).origin &&
      location.username === "" &&
      location.password === ""
    );
  }

  /**
   * The abort controller for the next attempt. Attempts never overlap and each one is over (its
   * body consumed) before the next starts, so consecutive attempts share one until it aborts (a
   * timeout) or has served {@link controllerUses}. Node's fetch pays for every new signal it is
   * given (listener limits, a finalizer that runs at GC): about 4% of its CPU per POST here.
   */
  #attemptController(): AbortController {
    let controller = this.#controller;
    if (
      controller === undefined ||
      controller.signal.aborted ||
      this.#controllerUses >= controllerUses
    ) {
      controller = this.#controller = new AbortController();
      this.#controllerUses = 0;
    }
    this.#controllerUses++;
    return controller;
  }
}

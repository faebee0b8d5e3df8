// The sink that POSTs envelopes to a receiver (distribution's `httpSink`), with what upstream
// lacks: batching, Standard Webhooks signing, Retry-After and errors that never leak secrets.

import { type EnvelopeMediaType, EventsMediaType, EventsMediaTypeV2 } from "../event/constants.ts";
import { encodeEnvelope } from "../event/envelope.ts";
import type { Event } from "../event/schema.ts";
import { signWebhook } from "../webhooks/webhooks.ts";
import { EndpointMetrics, statusText } from "./metrics.ts";
import { type Sink, SinkClosedError } from "./sink.ts";
import type { Clock } from "./strategies.ts";

/**
 * Extra request headers: a `Headers`, or a record of one value or a list of values per name
 * (distribution's `headers: { Authorization: [Bearer <token>] }`). Values are appended, so a
 * list sends the header once per value, as Go's `Header.Add` does.
 *
 * @example
 * ```ts
 * import type { HttpHeaders } from "registry-relay";
 * const headers: HttpHeaders = { Authorization: "Bearer s3cr3t", "X-Team": ["a", "b"] };
 * ```
 */
export type HttpHeaders = Headers | Readonly<Record<string, string | readonly string[]>>;

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

/** Fields every delivery error of an {@link HttpSink} write carries. */
interface Delivery {
  /**
   * Events of this write acknowledged by earlier POSTs before this one failed (batching). A
   * {@link RetryingSink} resends only the rest.
   */
  delivered?: number;
}

/**
 * The receiver answered with a status outside 200–299 (a redirect is the subclass
 * {@link HttpRedirectError}). `retryAfterMs` is its `Retry-After` (seconds or HTTP date) in
 * milliseconds, when it sent one.
 *
 * @example
 * ```ts
 * import { HttpStatusError } from "registry-relay";
 * const error = new HttpStatusError(429, { retryAfterMs: 2000 });
 * error.message; // "httpSink: response status 429 Too Many Requests unaccepted"
 * ```
 */
export class HttpStatusError extends Error implements Delivery {
  override readonly name: string = "HttpStatusError";
  readonly status: number;
  readonly statusText: string;
  readonly retryAfterMs?: number;
  delivered?: number;
  constructor(status: number, options: { sink?: string; retryAfterMs?: number } = {}) {
    const text = statusText(status);
    super(`${options.sink ?? "httpSink"}: response status ${status} ${text} unaccepted`);
    this.status = status;
    this.statusText = text;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The receiver answered with a redirect (3xx), which is never success: a POST redirected with
 * 301, 302 or 303 would reach the new place as a body-less GET, and a 307 or 308 would resend the
 * signed body to wherever `Location` points. `location` is the target, redacted like
 * {@link redactUrl}. 301 and 308 are `permanent`: the default classification dead-letters them
 * at once (update the endpoint URL); 302, 303 and 307 are retried. In browsers a redirect is
 * opaque to scripts: `status` is 0 and there is no `location`.
 *
 * @example
 * ```ts
 * import { HttpRedirectError } from "registry-relay";
 * const error = new HttpRedirectError(308, { location: "https://new.example/hook?token=abc" });
 * error.permanent; // true
 * error.message; // "httpSink: response status 308 Permanent Redirect unaccepted: redirect to
 * //   https://new.example/hook?token=*** not followed: the endpoint moved for good, update its URL"
 * ```
 */
export class HttpRedirectError extends HttpStatusError {
  override readonly name: string = "HttpRedirectError";
  /** Where the receiver redirected to (redacted), when it said and the runtime shows it. */
  readonly location?: string;
  /** 301 or 308: the endpoint URL itself is outdated. */
  readonly permanent: boolean;
  constructor(
    status: number,
    options: { sink?: string; location?: string; retryAfterMs?: number } = {},
  ) {
    super(status, options);
    const sink = options.sink ?? "httpSink";
    this.permanent = status === 301 || status === 308;
    if (options.location !== undefined) this.location = redactUrl(options.location);
    const target = this.location === undefined ? "without Location" : `to ${this.location}`;
    this.message =
      status === 0
        ? `${sink}: redirect not followed (the runtime hides its status and Location)`
        : `${sink}: response status ${status} ${this.statusText} unaccepted: redirect ${target} not followed${
            this.permanent ? ": the endpoint moved for good, update its URL" : ""
          }`;
  }
}

/**
 * The request could not be built (its envelope, headers or signature), so nothing was sent. It
 * would fail the same way on every attempt: {@link classifyDeliveryError} calls it final. Not a
 * network error: those are {@link HttpTransportError}, even when the runtime throws a
 * `TypeError` for them (Node's `fetch failed`).
 *
 * @example
 * ```ts
 * import { HttpRequestError } from "registry-relay";
 * try { await sink.write(event); } catch (e) { if (e instanceof HttpRequestError) console.error("unsendable:", e.message); }
 * ```
 */
export class HttpRequestError extends Error implements Delivery {
  override readonly name: string = "HttpRequestError";
  delivered?: number;
  constructor(detail: string, options: { sink?: string; cause?: unknown } = {}) {
    super(`${options.sink ?? "httpSink"}: ${detail}`, { cause: options.cause });
  }
}

/**
 * The POST got no status: refused, reset, DNS, TLS, or `timedOut`.
 * `cause` is the runtime's error (a redacted copy if its text contained a secret).
 *
 * @example
 * ```ts
 * import { HttpTransportError } from "registry-relay";
 * try { await sink.write(event); } catch (e) {
 *   if (e instanceof HttpTransportError && e.timedOut) console.warn("receiver too slow");
 * }
 * ```
 */
export class HttpTransportError extends Error implements Delivery {
  override readonly name = "HttpTransportError";
  readonly timedOut: boolean;
  delivered?: number;
  constructor(
    detail: string,
    options: { sink?: string; cause?: unknown; timedOut?: boolean } = {},
  ) {
    super(`${options.sink ?? "httpSink"}: error posting: ${detail}`, { cause: options.cause });
    this.timedOut = options.timedOut ?? false;
  }
}

/**
 * The events of a write could not be encoded as an envelope (a value JSON cannot hold, such as
 * `NaN`): an {@link HttpRequestError}, so final.
 *
 * @example
 * ```ts
 * import { HttpEncodeError } from "registry-relay";
 * try { await sink.write(event); } catch (e) { if (e instanceof HttpEncodeError) console.error(e.message); }
 * ```
 */
export class HttpEncodeError extends HttpRequestError {
  override readonly name: string = "HttpEncodeError";
  constructor(detail: string, options: { sink?: string; cause?: unknown } = {}) {
    super(`error marshaling event envelope: ${detail}`, options);
  }
}

/**
 * A URL fit for messages: userinfo becomes `***`, every query value becomes `***` (keys stay),
 * the fragment goes. Paths are kept (put tokens in headers or the query, not the path).
 *
 * @example
 * ```ts
 * import { redactUrl } from "registry-relay";
 * redactUrl("https://bot:pw@hooks.example.com/in?token=abc&team=x");
 * // "https://***@hooks.example.com/in?token=***&team=***"
 * ```
 */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return "<invalid url>";
  }
  if (url.username || url.password) {
    url.username = "***";
    url.password = "";
  }
  if (url.search) {
    const keys = [...new URLSearchParams(url.search).keys()];
    url.search = keys.map((key) => `${encodeURIComponent(key)}=***`).join("&");
  }
  url.hash = "";
  return url.href;
}

/**
 * A `Retry-After` value in milliseconds: delay-seconds or an HTTP date (relative to `now`);
 * `undefined` when absent or unreadable.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "registry-relay";
 * parseRetryAfter("120"); // 120000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT")); // 60000
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // IMF-fixdate and the obsolete forms all start with a day name or a day number.
  if (!/^[A-Za-z]{3}|^\d{1,2} /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** One request header as fetch takes it (a list of pairs keeps repeated names). */
type HeaderPair = [name: string, value: string];
/** What `signWebhook` returns: set on every signed POST, replacing configured values. */
const signedHeaderNames = new Set(["webhook-id", "webhook-timestamp", "webhook-signature"]);
const ignore = () => undefined;
const defaultTimeout = 1000;
/**
 * Attempts that share one abort controller. Node's fetch keeps a listener on the signal per
 * request until GC, so a bound keeps that list short.
 */
const controllerUses = 16;
/** How much of a response body is read before the rest is cancelled. */
const bodyReadLimit = 64 * 1024;
/** The reason given when a body is cancelled (a reason spares Node building a DOMException). */
const unreadBody = "httpSink: response body not needed";
/** Same-origin redirects followed per attempt at most (with `followRedirects: "same-origin"`). */
const maxRedirectHops = 3;
/**
 * Event ids sent as they are in `webhook-id`: ASCII letters, digits and `_-:+/=@~`, 1–256 long.
 * No `.` (the signed content is `id.timestamp.body`), nothing a header value cannot carry.
 */
const safeMessageId = /^[\w:+/=@~-]{1,256}$/;
/** What a configured header value may hold: printable ASCII and tab. */
const headerValue = /^[\t\x20-\x7e]*$/;
/** What a signature header value may hold (printable ASCII), checked before every POST. */
const printable = /^[\x20-\x7e]+$/;

/** Configured headers as (name, value) pairs, validated without ever echoing a value. */
function headerPairs(headers: HttpHeaders | undefined): [string, string][] {
  if (headers === undefined) return [];
  const pairs: [string, string][] =
    headers instanceof Headers
      ? [...headers.entries()]
      : Object.entries(headers).flatMap(([name, values]) =>
          (typeof values === "string" ? [values] : [...values]).map((value): [string, string] => [
            name,
            value,
          ]),
        );
  for (const [name, value] of pairs) {
    if (!token.test(name))
      throw new TypeError(`httpSink: header name ${JSON.stringify(name)} is not a valid token`);
    // Printable ASCII only: runtimes disagree on anything else (browsers and Node refuse what is
    // above U+00FF at every POST, workerd sends it as UTF-8 and logs the value). The runtime's
    // own check runs too, once, here.
    let valid = typeof value === "string" && headerValue.test(value);
    try {
      if (valid) new Headers().append(name, value);
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new TypeError(
        `httpSink: header ${name}: value must be printable ASCII (no CR, LF, NUL or other control character)`,
      );
    }
  }
  return pairs;
}

/** Catches a bad secret at construction: at write time it would fail every attempt. */
function checkSecrets(secret: string | readonly string[] | undefined) {
  if (secret === undefined) return undefined;
  const list = typeof secret === "string" ? [secret] : [...secret];
  if (list.length === 0) throw new TypeError("httpSink: secret must not be an empty list");
  list.forEach((value, index) => {
    const key = typeof value === "string" ? value.replace(/^whsec_/, "") : "";
    let valid = key.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(key);
    try {
      if (valid) atob(key);
    } catch {
      valid = false;
    }
    if (!valid) {
      const at = typeof secret === "string" ? "" : `[${index}]`;
      throw new TypeError(`httpSink: secret${at} must be whsec_ followed by base64`);
    }
  });
  return secret;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The Standard Webhooks message id of one POST: the event id for a single event when it is a
 * safe token (stable across retries: the receiver's idempotency key), else a digest of the event
 * ids, equally stable. An id from event content never makes the request unsendable.
 */
async function messageId(events: Event[]): Promise<string> {
  const only = events.length === 1 ? events[0]?.id : undefined;
  if (typeof only === "string" && safeMessageId.test(only)) return only;
  // JSON keeps the list unambiguous: ids may contain any separator.
  const ids = new TextEncoder().encode(
    only === undefined ? JSON.stringify(events.map((event) => event.id)) : only,
  );
  const digest = hex(await crypto.subtle.digest("SHA-256", ids));
  return `${events.length === 1 ? "evt" : "batch"}_${digest.slice(0, 32)}`;
}

/**
 * Consumes a response body so the connection can be reused, reading at most
 * {@link bodyReadLimit}; the cheapest way differs by body, measured in Node, Deno and Bun:
 * - empty (`content-length: 0`): cancelled. Nothing is lost and the connection stays reusable;
 *   the reason is given so that Node's fetch does not build a DOMException for it.
 * - small, of known length and not encoded: read in one call (a reader loop costs about 0.15 ms
 *   more per POST in Deno).
 * - otherwise: read chunk by chunk up to the limit, the rest cancelled.
 */
async function discard(response: Response): Promise<void> {
  const body = response.body;
  if (body === null) return;
  try {
    const length = response.headers.get("content-length");
    if (length === "0") return await body.cancel(unreadBody);
    if (
      length !== null &&
      Number(length) <= bodyReadLimit &&
      !response.headers.has("content-encoding")
    ) {
      await response.arrayBuffer();
      return;
    }
    const reader = body.getReader();
    for (let read = 0; read <= bodyReadLimit; ) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel(unreadBody);
  } catch {
    // The status already decided the outcome; a body cut short only costs the connection.
  }
}

/** `location` resolved against the URL that answered, or undefined when it is no URL. */
function resolveLocation(location: string | null, base: string): URL | undefined {
  if (location === null) return undefined;
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 4; depth++) {
    if (e instanceof Error) {
      if (e.message) parts.push(e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(": ") || "unknown error";
}

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
  readonly #target: string;
  readonly #redacted: string;
  readonly #original: string;
  readonly #headers: [string, string][];
  /** What every POST sends: content type, configured headers, Basic auth (built once). */
  readonly #requestHeaders: readonly HeaderPair[];
  /** {@link #requestHeaders} without the names signing sets (it replaces them). */
  readonly #unsignedHeaders: readonly HeaderPair[];
  readonly #encodeOptions: { mediaType: EnvelopeMediaType };
  readonly #basic: string | undefined;
  readonly #secret: string | readonly string[] | undefined;
  readonly #sensitive: string[];
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
    const { maxBatch = 1, mediaType = EventsMediaType } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`httpSink: maxBatch must be an integer >= 1, got ${maxBatch}`);
    }
    if (mediaType !== EventsMediaType && mediaType !== EventsMediaTypeV2) {
      throw new TypeError(`httpSink: mediaType must be an envelope media type, got ${mediaType}`);
    }
    const timeout = options.timeout ?? 0;
    if (Number.isNaN(timeout)) throw new RangeError("httpSink: timeout must be a number of ms");
    this.timeout = timeout > 0 ? timeout : defaultTimeout;
    this.maxBatch = maxBatch;
    this.mediaType = mediaType;
    this.metrics = options.metrics ?? new EndpointMetrics();
    this.#headers = headerPairs(options.headers);
    this.#secret = checkSecrets(options.secret);
    this.#redacted = redactUrl(target);
    const original = target.href;
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    // fetch refuses URLs with credentials; Go turns them into Basic auth, and so do we.
    this.#basic =
      user || password
        ? `Basic ${base64(new TextEncoder().encode(`${user}:${password}`))}`
        : undefined;
    target.username = "";
    target.password = "";
    target.hash = "";
    this.#target = target.href;
    const secrets = options.secret === undefined ? [] : [options.secret].flat();
    this.#original = original;
    this.#sensitive = [
      user,
      password,
      ...new URLSearchParams(target.search).values(),
      ...this.#headers.map(([, value]) => value),
      ...secrets,
    ]
      .filter((text) => text.length >= 4)
      .sort((a, b) => b.length - a.length);
    this.#encodeOptions = { mediaType };
    // The appends `new Headers({ "content-type" })` + `append` per pair would make, as pairs:
    // built once, and cheaper for fetch to take than a `Headers` or a record.
    const requestHeaders: HeaderPair[] = [["content-type", mediaType], ...this.#headers];
    const hasAuthorization = this.#headers.some(([name]) => name.toLowerCase() === "authorization");
    if (this.#basic && !hasAuthorization) requestHeaders.push(["authorization", this.#basic]);
    this.#requestHeaders = requestHeaders;
    this.#unsignedHeaders = requestHeaders.filter(
      ([name]) => !signedHeaderNames.has(name.toLowerCase()),
    );
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
    const follow = options.followRedirects ?? "never";
    if (follow !== "never" && follow !== "same-origin") {
      throw new TypeError(`httpSink: followRedirects must be "never" or "same-origin"`);
    }
    this.#followSameOrigin = follow === "same-origin";
  }

  write(...events: Event[]): Promise<void> {
    if (this.#closing) return Promise.reject(new SinkClosedError(this.toString()));
    // Single flight, as upstream: one POST at a time, in write order. An idle sink starts at
    // once instead of waiting a turn behind a settled chain.
    const idle = this.#active === 0;
    this.#active++;
    const run = idle ? this.#deliver(events) : this.#tail.then(() => this.#deliver(events));
    this.#tail = run.catch(ignore);
    return run;
  }

  /** Waits for POSTs already accepted, then refuses new writes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => undefined);
    return this.#closing;
  }

  toString(): string {
    return `httpSink{${this.#redacted}}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      url: this.#redacted,
      mediaType: this.mediaType,
      timeout: this.timeout,
      maxBatch: this.maxBatch,
      headers: [...new Set(this.#headers.map(([name]) => name))],
      signed: this.#secret !== undefined,
    };
  }

  async #deliver(events: Event[]): Promise<void> {
    try {
      if (events.length <= this.maxBatch) {
        if (events.length > 0) await this.#post(events);
        return;
      }
      let delivered = 0;
      for (let start = 0; start < events.length; start += this.maxBatch) {
        const batch = events.slice(start, start + this.maxBatch);
        try {
          await this.#post(batch);
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

  async #post(events: Event[]): Promise<void> {
    let body: string;
    try {
      body = encodeEnvelope({ events }, this.#encodeOptions);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new HttpEncodeError(detail, { sink: this.toString(), cause: error });
    }
    // Everything the request carries is built and checked before fetch: a failure here is ours
    // and would recur (final), while anything fetch throws is the network's (retried).
    let headers: HeaderPair[];
    // A fresh outer array per request: a custom `fetch` may keep or change what it is given.
    if (this.#secret === undefined) headers = this.#requestHeaders.slice();
    else {
      try {
        headers = await this.#signedHeaders(this.#secret, events, body);
      } catch (error) {
        throw new HttpRequestError(`cannot sign the request: ${this.#scrub(describe(error))}`, {
          sink: this.toString(),
          cause: error,
        });
      }
    }
    const controller = this.#attemptController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeout);
    try {
      let url = this.#target;
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
          throw this.#transportError(error, timedOut);
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
    events: Event[],
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
    return [...this.#unsignedHeaders, ...pairs];
  }

  /** Whether to follow this redirect: opted in, 307/308, same origin, hops left. */
  #mayFollow(status: number, location: URL | undefined, hops: number): boolean {
    return (
      this.#followSameOrigin &&
      (status === 307 || status === 308) &&
      location !== undefined &&
      hops < maxRedirectHops &&
      location.origin === new URL(this.#target).origin &&
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

  #transportError(error: unknown, timedOut: boolean): HttpTransportError {
    const sink = this.toString();
    if (timedOut) {
      return new HttpTransportError(`timeout after ${this.timeout}ms`, {
        sink,
        cause: error,
        timedOut,
      });
    }
    const detail = describe(error);
    const scrubbed = this.#scrub(detail);
    // Some runtimes put the request URL (with its query) into messages: keep those out.
    const cause =
      scrubbed === detail
        ? error
        : Object.assign(new Error(scrubbed), {
            name: error instanceof Error ? error.name : "Error",
          });
    return new HttpTransportError(scrubbed, { sink, cause });
  }

  #scrub(text: string): string {
    let clean = text.split(this.#original).join(this.#redacted);
    clean = clean.split(this.#target).join(this.#redacted);
    for (const secret of this.#sensitive) clean = clean.split(secret).join("***");
    return clean;
  }
}

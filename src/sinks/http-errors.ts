// The errors an HttpSink write rejects with, and the redaction that keeps secrets out of them.

import { statusText } from "./metrics.ts";

/** The sink an error names: its `toString()`, or plain `httpSink`. */
const sinkOf = (options: { sink?: string | undefined }) => options.sink ?? "httpSink";

/** Fields every delivery error of an `HttpSink` write carries. */
export interface Delivery {
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
  // `declare`: set in the constructor (or not at all), no field initialiser emitted.
  declare readonly status: number;
  declare readonly statusText: string;
  declare readonly retryAfterMs?: number;
  declare delivered?: number;
  constructor(status: number, options: { sink?: string; retryAfterMs?: number } = {}) {
    const text = statusText(status);
    super(`${sinkOf(options)}: response status ${status} ${text} unaccepted`);
    this.status = status;
    this.statusText = text;
    const { retryAfterMs } = options;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
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
  declare readonly location?: string;
  /** 301 or 308: the endpoint URL itself is outdated. */
  declare readonly permanent: boolean;
  constructor(
    status: number,
    options: { sink?: string; location?: string; retryAfterMs?: number } = {},
  ) {
    super(status, options);
    const permanent = status === 301 || status === 308;
    this.permanent = permanent;
    const { location } = options;
    if (location !== undefined) this.location = redactUrl(location);
    this.message =
      status === 0
        ? `${sinkOf(options)}: redirect not followed (status and Location hidden)`
        : `${this.message}: redirect ${this.location ? `to ${this.location}` : "without Location"} not followed${
            permanent ? ": the endpoint moved for good, update its URL" : ""
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
  declare delivered?: number;
  constructor(detail: string, options: { sink?: string; cause?: unknown } = {}) {
    super(`${sinkOf(options)}: ${detail}`, options);
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
  declare readonly timedOut: boolean;
  declare delivered?: number;
  constructor(
    detail: string,
    options: { sink?: string; cause?: unknown; timedOut?: boolean } = {},
  ) {
    super(`${sinkOf(options)}: error posting: ${detail}`, options);
    this.timedOut = !!options.timedOut;
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
    url.search = [...url.searchParams.keys()]
      .map((key) => `${encodeURIComponent(key)}=***`)
      .join("&");
  }
  url.hash = "";
  return url.href;
}

/** An error and its causes' messages, joined (at most 4 deep). */
export function describe(error: unknown): string {
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
 * The values of an endpoint configuration that must never be stored or shown: header values,
 * signing secrets, and the URL's userinfo and query values. HttpSink masks them in its own
 * errors and the retry policy in every stored failure: one list, one rule.
 *
 * @example
 * ```ts
 * import { describeFailure, sensitiveValues } from "registry-relay";
 * const sensitive = sensitiveValues({ headers: { Authorization: ["Bearer s3cr3t"] } }); // ["Bearer s3cr3t"]
 * describeFailure(error, sensitive);
 * ```
 */
export function sensitiveValues(config: {
  url?: string | URL | undefined;
  headers?:
    | Readonly<Record<string, string | readonly string[]>>
    | readonly (readonly [string, string])[]
    | undefined;
  secret?: string | readonly string[] | undefined;
}): string[] {
  const headers = config.headers ?? {};
  const values: string[] = [
    ...(Array.isArray(headers) ? headers.map((pair) => pair[1]) : Object.values(headers)),
    config.secret ?? [],
  ].flat();
  try {
    const url = new URL(config.url as string);
    values.push(
      decodeURIComponent(url.username),
      decodeURIComponent(url.password),
      ...url.searchParams.values(),
    );
  } catch {
    // No URL, or not one: nothing of it can show up in a message either.
  }
  return values.filter((value) => value !== "");
}

/**
 * `text` with each of `values` masked as `***`, longest first (so a value inside a longer one
 * cannot leave part of it); values under 4 characters are left, they would mask ordinary words.
 */
export function maskValues(text: string, values: readonly string[]): string {
  const masked = values.filter((value) => value.length > 3).sort((a, b) => b.length - a.length);
  for (const value of masked) text = text.replaceAll(value, "***");
  return text;
}

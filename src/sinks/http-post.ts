// The POSTs of one HttpSink: what every request carries (URL, headers, Basic auth), built and
// checked once; batches of `maxBatch`, one POST at a time in write order, the Standard Webhooks
// signature, a timeout per attempt, the receiver's answer counted and turned into the errors of
// http-errors.ts, which never show a secret. HttpSink (http.ts) is its public face; Endpoint uses
// it as it is, without what only HttpSink offers (writeEncoded, toJSON, following redirects).

import { type EnvelopeMediaType, EventsMediaType, EventsMediaTypeV2 } from "../event/constants.ts";
import {
  type EndpointFormat,
  type OutputFormat,
  type OutputMessage,
  outputFormatOf,
} from "../event/output.ts";
import type { Event } from "../event/schema.ts";
import { encoder, secretKeys, toBase64 } from "../webhooks/hmac.ts";
import { signatureHeaders } from "../webhooks/sign.ts";
import { atLeast } from "./defaults.ts";
import {
  type Delivery,
  describe,
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpStatusError,
  HttpTransportError,
  maskValues,
  redactUrl,
  sensitiveValues,
} from "./http-errors.ts";
import { type HeaderPair, type HttpHeaders, headerPairs, messageId } from "./http-request.ts";
import { discard, parseRetryAfter, resolveLocation } from "./http-response.ts";
import type { EndpointMetrics } from "./metrics.ts";
import { type Sink, SinkClosedError } from "./sink.ts";
import type { Clock } from "./strategies.ts";

/** HttpSink's options as it checked and completed them (or a checked endpoint configuration). */
export interface PostOptions {
  headers?: HttpHeaders | undefined;
  timeout: number;
  fetch?: ((input: string, init: RequestInit) => Promise<Response>) | undefined;
  mediaType: EnvelopeMediaType;
  /**
   * What the endpoint receives (default `distribution`: envelopes on `mediaType`'s line); other
   * names need their format object (registry-relay/formats' `outputFormats`).
   */
  format?: EndpointFormat | OutputFormat | undefined;
  secret?: string | readonly string[] | undefined;
  maxBatch: number;
  metrics: EndpointMetrics;
  now?: Clock | undefined;
}

/**
 * Attempts that share one abort controller. Node's fetch keeps a listener on the signal per
 * request until GC, so a bound keeps that list short.
 */
const controllerUses = 16;

/** The body of a batch: its text, or its text and the headers of this request only. */
export type BodyOf<T> = (batch: T[]) => string | OutputMessage;

/** Whether to follow a redirect (`hops` already followed in this attempt) from `target`. */
export type Follow = (status: number, location: URL, hops: number, target: string) => boolean;

/**
 * The engine of an HttpSink (see there for what a write does): the POSTs. It checks what would
 * make every POST fail or never end (the URL, headers, secrets, `maxBatch`, what the format
 * refuses); HttpSink and Endpoint check the rest of their options.
 */
export class HttpPost implements Sink<Event> {
  // `declare`: assigned in the constructor, no field initialiser emitted.
  /** The URL as shown ({@link redactUrl}). */
  declare readonly url: string;
  /** The configured headers, checked. */
  declare readonly headers: HeaderPair[];
  /** The endpoint's output format. */
  declare readonly format: OutputFormat;
  /** The body of a batch of events in the endpoint's format (what `write` sends). */
  declare readonly eventsBody: BodyOf<Event>;
  /**
   * POSTs one write's `items` in batches of `maxBatch`; a failure says how many events went
   * before it. A closure over what the constructor built (locals minify better than fields).
   */
  readonly #deliver: <T extends { id: unknown }>(items: T[], bodyOf: BodyOf<T>) => Promise<void>;
  #tail: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(url: string | URL, options: PostOptions, follow?: Follow) {
    const fail = (message: string) => new TypeError(`httpSink: ${message}`);
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {}
    if (!parsed || !/^https?:$/.test(parsed.protocol)) {
      throw fail("url must be an absolute http or https URL");
    }
    const {
      mediaType,
      maxBatch,
      secret,
      timeout,
      metrics,
      fetch: customFetch,
      now = Date.now,
    } = options;
    atLeast("httpSink: maxBatch", maxBatch, 1, "an integer");
    if (mediaType !== EventsMediaType && mediaType !== EventsMediaTypeV2) {
      throw fail(`mediaType must be an envelope media type, got ${mediaType}`);
    }
    // Checked here, not at the first POST: a bad secret would fail every attempt.
    const keys = secret === undefined ? undefined : secretKeys(secret, fail);
    const format = outputFormatOf(options.format, "httpSink");
    const shape = { mediaType, maxBatch };
    const configured = headerPairs(options.headers);
    const refused = format.refuses?.(
      shape,
      configured.map(([name]) => name),
    );
    if (refused) throw fail(refused);
    const original = parsed.href;
    const redacted = redactUrl(parsed);
    const sensitive = sensitiveValues({ url: original, headers: configured, secret });
    const basic = decodeURIComponent(`${parsed.username}:${parsed.password}`);
    parsed.username = parsed.password = parsed.hash = "";
    // The URL POSTed to: without userinfo (sent as Basic auth) and fragment.
    const target = parsed.href;
    // As `new Headers({ "content-type" })` + `append` per pair, as pairs: built once, and cheaper
    // for fetch to take than a `Headers` or a record.
    const requestHeaders: HeaderPair[] = [
      ["content-type", format.contentType(shape)],
      ...configured,
    ];
    // fetch refuses URLs with credentials; Go turns them into Basic auth, and so do we.
    if (basic !== ":" && !configured.some(([name]) => /^authorization$/i.test(name))) {
      requestHeaders.push(["authorization", `Basic ${toBase64(encoder.encode(basic))}`]);
    }
    // `text` with the URL redacted and every sensitiveValues value masked.
    const scrub = (text: string) =>
      maskValues(text.replaceAll(original, redacted).replaceAll(target, redacted), sensitive);
    this.url = redacted;
    this.headers = configured;
    this.format = format;
    this.eventsBody = (batch) => format.body(batch, shape);
    // As `Headers.set`: the signature headers replace configured ones of the same name.
    const unsigned = requestHeaders.filter(
      ([name]) => !/^webhook-(id|timestamp|signature)$/i.test(name),
    );
    const sink = this.toString();
    // Attempts never overlap and each one is over (its body consumed) before the next starts, so
    // consecutive attempts share one controller until it aborts (a timeout) or has served
    // `controllerUses`. Node's fetch pays for every new signal it is given (listener limits, a
    // finalizer that runs at GC): about 4% of its CPU per POST here.
    let controller = new AbortController();
    let uses = 0;

    /** One POST of `batch` (and of the redirects `follow` takes). */
    const attempt = async <T extends { id: unknown }>(batch: T[], bodyOf: BodyOf<T>) => {
      let body: string;
      // Headers of this body only (CDEvents' ce-* attributes), after the configured ones.
      let own: HeaderPair[] = [];
      try {
        const built = bodyOf(batch);
        if (typeof built === "string") body = built;
        else ({ body, headers: own } = built);
      } catch (error) {
        throw new HttpEncodeError(error instanceof Error ? error.message : String(error), {
          sink,
          cause: error,
        });
      }
      // Everything the request carries is built and checked before fetch: a failure here is ours
      // and would recur (final), while anything fetch throws is the network's (retried). A fresh
      // outer array per request: a custom `fetch` may keep or change what it is given.
      let headers = [...requestHeaders, ...own];
      if (keys) {
        try {
          const id = await messageId(batch);
          const signed = await signatureHeaders(keys, id, Math.floor(now() / 1000), body);
          headers = [...unsigned, ...own, ...Object.entries(signed)];
        } catch (error) {
          throw new HttpRequestError(`cannot sign the request: ${scrub(describe(error))}`, {
            sink,
            cause: error,
          });
        }
      }
      if (controller.signal.aborted || uses++ === controllerUses) {
        controller = new AbortController();
        uses = 1;
      }
      // Only this timer aborts the signal: an aborted signal is a timeout. Attempts never overlap,
      // so it is this attempt's. Timers past 2^31-1 ms would fire at once: at most that.
      const attemptController = controller;
      const timer = setTimeout(() => attemptController.abort(), Math.min(timeout, 0x7fffffff));
      try {
        for (let url = target, hops = 0; ; hops++) {
          let response: Response;
          try {
            response = await (customFetch ?? fetch)(url, {
              method: "POST",
              headers,
              body,
              redirect: "manual",
              signal: controller.signal,
            });
          } catch (error) {
            metrics.error();
            if (controller.signal.aborted) {
              throw new HttpTransportError(`timeout after ${timeout}ms`, {
                sink,
                cause: error,
                timedOut: true,
              });
            }
            // Some runtimes put the request URL (with its query) into messages: keep those out,
            // of the cause too.
            const detail = describe(error);
            const scrubbed = scrub(detail);
            throw new HttpTransportError(scrubbed, {
              sink,
              cause:
                scrubbed === detail
                  ? error
                  : Object.assign(new Error(scrubbed), {
                      name: error instanceof Error ? error.name : "Error",
                    }),
            });
          }
          await discard(response);
          const { status } = response;
          if (status >= 200 && status < 300) return metrics.success(status);
          // (Typed loosely: Workers' types know only "default" and "error".)
          if ((response as { type?: string }).type === "opaqueredirect") {
            // A browser: some redirect, status and Location hidden. No status to count.
            metrics.error();
            throw new HttpRedirectError(0, { sink });
          }
          const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
          if (status < 300 || status >= 400) {
            metrics.failure(status);
            throw new HttpStatusError(status, { sink, retryAfterMs });
          }
          const location = resolveLocation(response.headers.get("location"), url);
          if (location && follow?.(status, location, hops, target)) {
            url = location.href;
            continue;
          }
          metrics.failure(status);
          throw new HttpRedirectError(status, { sink, location: location?.href, retryAfterMs });
        }
      } finally {
        clearTimeout(timer);
      }
    };

    this.#deliver = async (items, bodyOf) => {
      let start = 0;
      try {
        for (; start < items.length; start += maxBatch) {
          await attempt(items.slice(start, start + maxBatch), bodyOf);
        }
      } catch (error) {
        // The events before the failing POST are delivered: a RetryingSink resends the rest.
        if (start && error instanceof Error) (error as Delivery).delivered = start;
        throw error;
      }
    };
  }

  write(...events: Event[]): Promise<void> {
    return this.send(events, this.eventsBody);
  }

  /** Delivers `items`, in `maxBatch` batches, after the writes before them; `bodyOf` makes each body. */
  send<T extends { id: unknown }>(items: T[], bodyOf: BodyOf<T>): Promise<void> {
    if (this.#closing) return Promise.reject(new SinkClosedError(this.toString()));
    // Single flight, as upstream: one POST at a time, in write order.
    const run = this.#tail.then(() => this.#deliver(items, bodyOf));
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Waits for POSTs already accepted, then refuses new writes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => {});
    return this.#closing;
  }

  toString(): string {
    return `httpSink{${this.url}}`;
  }
}

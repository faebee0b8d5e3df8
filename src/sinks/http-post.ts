// The POSTs of one HttpSink: batches of `maxBatch`, one POST at a time in write order, the
// Standard Webhooks signature, a timeout per attempt, the receiver's answer counted and turned
// into the errors of http-errors.ts. HttpSink (http.ts) is its public face; Endpoint uses it as
// it is, without what only HttpSink offers (writeEncoded, toJSON, following redirects).

import type { EnvelopeMediaType } from "../event/constants.ts";
import type { Event } from "../event/schema.ts";
import { signWebhook } from "../webhooks/webhooks.ts";
import { type BodyOf, contentTypeOf, type EndpointFormat, eventsBody } from "./http-body.ts";
import {
  describe,
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpStatusError,
  HttpTransportError,
} from "./http-errors.ts";
import {
  type HttpHeaders,
  messageId,
  type RequestSetup,
  requestSetup,
  transportError,
} from "./http-request.ts";
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
  /** What the endpoint receives (default `distribution`, envelopes on `mediaType`'s line). */
  format?: EndpointFormat | undefined;
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

/** Whether to follow a redirect (`hops` already followed in this attempt) from `target`. */
export type Follow = (status: number, location: URL, hops: number, target: string) => boolean;

/**
 * The engine of an HttpSink (see there for what a write does): the POSTs. It trusts its options
 * (HttpSink and parseEndpointConfig check them) but for the URL and the header values.
 */
export class HttpPost implements Sink<Event> {
  /** The URL, headers and values to mask of every POST (built once). */
  readonly request: RequestSetup;
  readonly options: PostOptions;
  readonly #follow: Follow | undefined;
  /** The body of a batch of events in the endpoint's format (what `write` sends). */
  readonly eventsBody: BodyOf<Event>;
  #tail: Promise<unknown> = Promise.resolve();
  /** The abort controller of recent attempts (see {@link #attemptController}). */
  #controller: AbortController | undefined;
  #controllerUses = 0;
  /** Writes accepted and not finished: at 0 the next write starts at once. */
  #active = 0;
  #closing: Promise<void> | undefined;

  constructor(url: string | URL, options: PostOptions, follow?: Follow) {
    let target: URL | undefined;
    try {
      target = new URL(url);
    } catch {}
    if (!/^https?:$/.test(target?.protocol as string)) {
      throw new TypeError("httpSink: url must be an absolute http or https URL");
    }
    this.options = options;
    const { format = "distribution", mediaType, maxBatch } = options;
    const contentType = contentTypeOf(format, mediaType, maxBatch);
    this.request = requestSetup(target as URL, options.headers, options.secret, contentType);
    this.eventsBody = eventsBody(format, mediaType, maxBatch);
    this.#follow = follow;
  }

  write(...events: Event[]): Promise<void> {
    return this.send(events, this.eventsBody);
  }

  /** Delivers `items`, in `maxBatch` batches, after the writes before them; `bodyOf` makes each body. */
  send<T extends { id: unknown }>(items: T[], bodyOf: BodyOf<T>): Promise<void> {
    if (this.#closing) return Promise.reject(new SinkClosedError(this.toString()));
    // Single flight, as upstream: one POST at a time, in write order. An idle sink starts at
    // once instead of waiting a turn behind a settled chain.
    const run = this.#active++
      ? this.#tail.then(() => this.#deliver(items, bodyOf))
      : this.#deliver(items, bodyOf);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Waits for POSTs already accepted, then refuses new writes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => {});
    return this.#closing;
  }

  toString(): string {
    return `httpSink{${this.request.redacted}}`;
  }

  /** POSTs `items` in batches of `maxBatch`; a failure says how many events went before it. */
  async #deliver<T extends { id: unknown }>(items: T[], bodyOf: BodyOf<T>): Promise<void> {
    try {
      const { maxBatch } = this.options;
      for (let start = 0; start < items.length; start += maxBatch) {
        try {
          await this.#post(items.slice(start, start + maxBatch), bodyOf);
        } catch (error) {
          if (
            start > 0 &&
            (error instanceof HttpStatusError ||
              error instanceof HttpTransportError ||
              error instanceof HttpRequestError)
          ) {
            error.delivered = start;
          }
          throw error;
        }
      }
    } finally {
      this.#active--;
    }
  }

  async #post<T extends { id: unknown }>(batch: T[], bodyOf: BodyOf<T>): Promise<void> {
    const sink = this.toString();
    const { request, options } = this;
    const { secret, timeout, metrics, now = Date.now } = options;
    let body: string;
    // Headers of this body only (CDEvents' ce-* attributes), after the configured ones.
    let own: [string, string][] = [];
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
    let headers = [...request.requestHeaders, ...own];
    if (secret !== undefined) {
      try {
        const signed = await signWebhook({
          secret,
          id: await messageId(batch),
          timestamp: Math.floor(now() / 1000),
          body,
        });
        // As `Headers.set`: the signature headers replace configured ones of the same name.
        headers = [...request.unsignedHeaders, ...own, ...Object.entries(signed)];
      } catch (error) {
        throw new HttpRequestError(`cannot sign the request: ${request.scrub(describe(error))}`, {
          sink,
          cause: error,
        });
      }
    }
    const controller = this.#attemptController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    try {
      for (let url = request.target, hops = 0; ; hops++) {
        let response: Response;
        try {
          response = await (options.fetch ?? fetch)(url, {
            method: "POST",
            headers,
            body,
            redirect: "manual",
            signal: controller.signal,
          });
        } catch (error) {
          metrics.error();
          throw transportError(error, sink, timedOut && timeout, request);
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
        if (location && this.#follow?.(status, location, hops, request.target)) {
          url = location.href;
          continue;
        }
        metrics.failure(status);
        throw new HttpRedirectError(status, { sink, location: location?.href, retryAfterMs });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The abort controller for the next attempt. Attempts never overlap and each one is over (its
   * body consumed) before the next starts, so consecutive attempts share one until it aborts (a
   * timeout) or has served {@link controllerUses}. Node's fetch pays for every new signal it is
   * given (listener limits, a finalizer that runs at GC): about 4% of its CPU per POST here.
   */
  #attemptController(): AbortController {
    let controller = this.#controller;
    if (!controller || controller.signal.aborted || this.#controllerUses >= controllerUses) {
      controller = this.#controller = new AbortController();
      this.#controllerUses = 0;
    }
    this.#controllerUses++;
    return controller;
  }
}

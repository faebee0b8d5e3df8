// One notification endpoint in memory, as distribution builds it: ignore filter → queue → retry →
// HTTP sink, with distribution's defaults and our limits, partitions and redaction. It takes typed
// settings, as distribution's NewEndpoint: untyped input is parseEndpointConfig's to check.

import { outputFormatOf } from "../event/output.ts";
import type { Event } from "../event/schema.ts";
import { atLeast } from "../sinks/defaults.ts";
import { redactUrl } from "../sinks/http-errors.ts";
import { HttpPost } from "../sinks/http-post.ts";
import { EndpointMetrics, type EndpointMetricsSnapshot } from "../sinks/metrics.ts";
import { EventQueue } from "../sinks/queue.ts";
import { type DeadLetter, RetryingSink } from "../sinks/retrying.ts";
import { type Sink, SinkClosedError } from "../sinks/sink.ts";
import { Breaker, type Clock, ExponentialBackoff } from "../sinks/strategies.ts";
import { encoder } from "../webhooks/hmac.ts";
import { routesTo } from "./routing.ts";
import { type EndpointConfig, type EndpointSettings, withDefaults } from "./settings.ts";

/**
 * Runtime hooks of an {@link Endpoint} (what a configuration file cannot express).
 *
 * @example
 * ```ts
 * import type { EndpointOptions } from "registry-relay";
 * const options: EndpointOptions = {
 *   onDeadLetter: (letter) => console.warn(`dead letter (${letter.reason}):`, letter.events.map((e) => e.id)),
 * };
 * ```
 */
export interface EndpointOptions {
  /** Default: the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * Receives events given up on (see {@link RetryingSink}). Without it, giving up is reported to
   * `onError` with a {@link DeadLetterError} that carries the events.
   */
  onDeadLetter?(letter: DeadLetter<Event>): void | Promise<void>;
  /** A write failed behind the queue (default: `console.error`, as upstream logs). */
  onError?(error: unknown, events: Event[]): void;
  /** The `"drop-oldest"` overflow policy dropped these waiting events. */
  onDrop?(events: Event[]): void;
  /** Waits between attempts (tests); must reject when the signal aborts. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** Clock in ms (tests). */
  now?: Clock;
  /** Random source in [0, 1) for the exponential strategy's jitter (tests). */
  random?: () => number;
}

/**
 * The partition (0 ≤ p < `partitions`) of a repository: FNV-1a over its UTF-8 bytes. Events of
 * one repository always share a partition, so their order is kept while a stuck repository does
 * not block the others.
 *
 * @example
 * ```ts
 * import { partitionOf } from "registry-relay";
 * partitionOf("library/alpine", 4); // the same number in 0..3 every time
 * ```
 */
export function partitionOf(repository: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(repository)) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) % partitions;
}

/**
 * The retry strategy an endpoint configuration asks for (`config.strategy`, already normalised
 * by {@link parseEndpointConfig}): a {@link Breaker} or an {@link ExponentialBackoff}, fresh.
 * A durable queue rebuilding an endpoint after a restart calls `restore(state)` on it.
 *
 * @example
 * ```ts
 * import { strategyFor } from "registry-relay";
 * import { parseEndpointConfig } from "registry-relay/config";
 * const strategy = strategyFor(parseEndpointConfig({ threshold: 5, backoff: "2s" })); // Breaker(5, 2000)
 * strategy.restore({ failures: 5, lastFailureAt: Date.now() - 500 });
 * strategy.proceed([]); // ≈ 1500
 * ```
 */
export function strategyFor<E = Event>(
  config: Pick<EndpointConfig, "strategy">,
  options: { now?: Clock; random?: () => number } = {},
): Breaker<E> | ExponentialBackoff<E> {
  const chosen = config.strategy;
  return chosen.type === "exponential"
    ? new ExponentialBackoff<E>({ ...chosen, ...options })
    : new Breaker<E>(chosen.threshold, chosen.backoff, options);
}

/**
 * One endpoint: its filter, then `EventQueue → RetryingSink → HttpSink`, as distribution's
 * `NewEndpoint` (defaults: timeout 1 s, breaker threshold 10, backoff 1 s), plus dead letters,
 * limits, batching, signing and `partitions` (one queue, retry state and HTTP sink per partition;
 * events are routed by repository, see {@link partitionOf}; `capacity` is per partition).
 * `write` resolves once accepted; `close` drains, then closes everything (with a dead receiver,
 * draining lasts as long as the retries: up to `maxAge`, 3 days unless configured, or forever
 * with `maxAge: 0` and no `maxAttempts`, as upstream).
 * Its filter is the endpoint's routing (`routesTo`): the `format`'s own rule, the ignore lists
 * and `match`. `format` is `distribution` (envelopes) or an {@link OutputFormat}: registry-relay/
 * formats' `cloudEventsFormat` and `cdEventsFormat` (or `outputFormats[name]` for a
 * configuration's name), or your own.
 * Settings are typed (durations in ms); a config file's keys are `parseEndpointConfig`'s to check
 * first (Go durations, bounds, typos), and its output is valid settings (with `outputFormats`
 * for a format other than `distribution`). Each part checks what it
 * is given (a `TypeError` or `RangeError` naming the setting).
 * `metrics()`, `toString()` and `JSON.stringify` never show header values or secrets.
 *
 * @example
 * ```ts
 * import { Endpoint } from "registry-relay";
 * const endpoint = new Endpoint("audit", "https://hooks.example.com/registry", {
 *   headers: { Authorization: ["Bearer s3cr3t"] },
 *   ignore: { actions: ["pull"] },
 *   maxAttempts: 20,
 * }, { onDeadLetter: (letter) => console.warn("gave up", letter.reason) });
 * await endpoint.write(...envelope.events);
 * endpoint.metrics(); // { pending, events, successes, failures, errors, statuses }
 * ```
 */
export class Endpoint implements Sink<Event> {
  readonly name: string;
  readonly #config: Omit<EndpointConfig, "format"> & { format: string };
  readonly #url: string;
  readonly #metrics = new EndpointMetrics();
  /** One queue per partition. */
  readonly #queues: EventQueue<Event>[];
  /** The endpoint's routing: what it takes (the ignore filter, `match`, the format's own). */
  readonly #routes: (event: Event) => boolean;
  #closing: Promise<void> | undefined;

  constructor(
    name: string,
    url: string,
    settings: EndpointSettings = {},
    options: EndpointOptions = {},
  ) {
    const who = `endpoint ${name}`;
    const cfg = withDefaults(settings);
    atLeast(`${who}: partitions`, cfg.partitions, 1, "an integer");
    const format = outputFormatOf(cfg.format, who);
    this.#config = { ...cfg, format: format.name };
    this.name = name;
    const target = url || cfg.url;
    if (!target) throw new TypeError(`${who}: url is required`);
    this.#url = redactUrl(target);
    const metrics = this.#metrics;
    // One set of options for each part, which reads its own keys: HttpPost (HttpSink's POSTs,
    // without writeEncoded and redirects) headers, timeout, mediaType, maxBatch, secret, metrics,
    // fetch, now; RetryingSink maxAttempts, maxAge, onDeadLetter, sleep, now; EventQueue
    // capacity, overflow and the hooks.
    const parts = {
      ...options,
      ...cfg,
      format,
      metrics,
      onIngress: (events: Event[]) => metrics.ingress(events.length),
      onEgress: (events: Event[]) => metrics.egress(events.length),
    };
    this.#queues = Array.from(
      { length: cfg.partitions },
      () =>
        new EventQueue(
          new RetryingSink(new HttpPost(target, parts), strategyFor(cfg, options), parts),
          parts,
        ),
    );
    // The relay's rule (routing.ts): the format's own, distribution's ignore lists, `match`.
    this.#routes = routesTo({ ...cfg, format });
  }

  /** The endpoint's URL with userinfo and query values redacted. */
  get url(): string {
    return this.#url;
  }

  /** Whether the configuration marks this endpoint disabled (callers skip disabled endpoints). */
  get disabled(): boolean {
    return this.#config.disabled;
  }

  /**
   * Queues the events the endpoint takes, each in its repository's partition (order kept within
   * one); what it does not take is dropped first, as distribution's ignore filter does, and never
   * counts in a metric. Resolves once every one is queued.
   */
  async write(...events: Event[]): Promise<void> {
    if (this.#closing) throw new SinkClosedError(`endpoint ${this.name}`);
    const queues = this.#queues;
    const groups: Event[][] = [];
    for (const event of events) {
      if (!this.#routes(event)) continue;
      const partition = partitionOf(event.target.repository, queues.length);
      const group = groups[partition];
      if (group) group.push(event);
      else groups[partition] = [event];
    }
    // Partitions are independent: every group is handed over before a failure is reported.
    const results = await Promise.allSettled(
      groups.map((group, partition) => queues[partition]?.write(...group)),
    );
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Drains every partition's queue, then closes it (see above for how long that may take). */
  close(): Promise<void> {
    this.#closing ??= Promise.all(this.#queues.map((queue) => queue.close())).then(() => {});
    return this.#closing;
  }

  /** A copy of the counters (never any header value or secret). */
  metrics(): EndpointMetricsSnapshot {
    return this.#metrics.snapshot();
  }

  toString(): string {
    return `endpoint{${this.name}, ${this.#url}}`;
  }

  /** Like distribution's expvar entry, with header values and secrets left out. */
  toJSON(): Record<string, unknown> {
    const { headers, secret, url: _url, name: _name, ...rest } = this.#config;
    return {
      name: this.name,
      url: this.#url,
      ...rest,
      headers: Object.keys(headers),
      signed: secret !== undefined,
      metrics: this.metrics(),
    };
  }
}

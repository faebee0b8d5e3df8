// The per-endpoint FIFO (distribution's `eventQueue`, go-events' `Queue`): writes are accepted at
// once and a single drainer hands them, one write at a time and in order, to the next sink.
import type { Event } from "../event/schema.ts";
import { atLeast, endpointDefaults } from "./defaults.ts";
import { type Sink, SinkClosedError } from "./sink.ts";

/**
 * What a bounded {@link EventQueue} does when a write does not fit: `"reject"` the write with
 * {@link QueueFullError}, or `"drop-oldest"` waiting writes (counted in `dropped`, reported to
 * `onDrop`) to make room.
 *
 * @example
 * ```ts
 * import type { OverflowPolicy } from "registry-relay";
 * const policy: OverflowPolicy = "reject";
 * ```
 */
export type OverflowPolicy = "reject" | "drop-oldest";

/**
 * Options of {@link EventQueue}. Hooks receive the events of one write.
 *
 * @example
 * ```ts
 * import { EndpointMetrics, type EventQueueOptions } from "registry-relay";
 * const metrics = new EndpointMetrics();
 * const options: EventQueueOptions = {
 *   onIngress: (events) => metrics.ingress(events.length),
 *   onEgress: (events) => metrics.egress(events.length),
 * };
 * ```
 */
export interface EventQueueOptions<E = Event> {
  /** Most events waiting (not counting the write in flight). Default: unbounded, as upstream. */
  capacity?: number;
  /** Policy when `capacity` is reached (default `"reject"`). */
  overflow?: OverflowPolicy;
  /** Events were accepted (metrics: `events += n`, `pending += n`). */
  onIngress?(events: E[]): void;
  /** Events left the queue: written, failed or dropped (metrics: `pending −= n`). */
  onEgress?(events: E[]): void;
  /** Waiting events were dropped by the `"drop-oldest"` policy. */
  onDrop?(events: E[]): void;
  /**
   * The sink behind the queue rejected a write. The queue moves on, so these events are lost
   * unless the sink behind it keeps them: put a {@link RetryingSink} with `onDeadLetter` there
   * (as {@link Endpoint} does) so that failures end as dead letters, not here. Default: logs
   * through `console.error` like upstream ("these events will be lost").
   */
  onError?(error: unknown, events: E[]): void;
}

/**
 * Rejection of a write to a full {@link EventQueue} with the `"reject"` policy (or of a write
 * larger than the whole capacity).
 *
 * @example
 * ```ts
 * import { QueueFullError } from "registry-relay";
 * try { await queue.write(event); } catch (e) { if (e instanceof QueueFullError) respond(503); }
 * ```
 */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
  /** The queue's capacity, in events. */
  declare readonly capacity: number;
  constructor(capacity: number, incoming: number) {
    super(`eventqueue: full (capacity ${capacity} events), cannot accept ${incoming} more`);
    this.capacity = capacity;
  }
}

const log = (what: string, error: unknown) =>
  console.error(`eventqueue: ${what}:`, error instanceof Error ? error.message : error);

const logLoss = (error: unknown, events: unknown[]) =>
  log(`error writing ${events.length} event(s), these events will be lost`, error);

// A throwing user hook must not stop the drainer.
function safely(hook: () => void): void {
  try {
    hook();
  } catch (error) {
    log("hook failed", error);
  }
}

/**
 * FIFO with a single drainer: `write` resolves as soon as the events are accepted; the drainer
 * writes one accepted write at a time into the next sink, in acceptance order. `close` stops
 * accepting, waits until everything accepted was handed on, then closes the next sink.
 * `pending` = accepted and not yet handed on (including the write in flight).
 *
 * @example
 * ```ts
 * import { EventQueue } from "registry-relay";
 * const queue = new EventQueue(retrying, { capacity: 10_000, overflow: "drop-oldest" });
 * await queue.write(event); // accepted; delivered in the background
 * await queue.close();      // drains, then closes `retrying`
 * ```
 */
export class EventQueue<E = Event> implements Sink<E> {
  declare readonly capacity: number;
  declare readonly overflow: OverflowPolicy;
  readonly #sink: Sink<E>;
  readonly #options: EventQueueOptions<E>;
  // Accepted writes, oldest last in `#out`, newest last in `#in`: a FIFO of two stacks, O(1)
  // amortised without array shifts.
  #in: E[][] = [];
  #out: E[][] = [];
  #waiting = 0;
  #inFlight = 0;
  #dropped = 0;
  #draining = false;
  #idle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(sink: Sink<E>, options: EventQueueOptions<E> = {}) {
    const { capacity = Infinity, overflow = endpointDefaults.overflow } = options;
    if (capacity !== Infinity) {
      atLeast("EventQueue capacity", capacity, 1, "an integer");
    }
    if (overflow !== "reject" && overflow !== "drop-oldest") {
      throw new TypeError(`EventQueue overflow must be "reject" or "drop-oldest", got ${overflow}`);
    }
    this.#sink = sink;
    this.#options = options;
    this.capacity = capacity;
    this.overflow = overflow;
  }

  /** Events accepted and not yet handed on (waiting plus in flight). */
  get pending(): number {
    return this.#waiting + this.#inFlight;
  }

  /** Events dropped by the `"drop-oldest"` policy so far. */
  get dropped(): number {
    return this.#dropped;
  }

  async write(...events: E[]): Promise<void> {
    if (this.#closing) throw new SinkClosedError("eventqueue");
    const incoming = events.length;
    if (incoming === 0) return;
    // Drop the oldest waiting writes until this one fits, unless it may not (or never can).
    while (this.#waiting + incoming > this.capacity) {
      if (this.overflow === "reject" || incoming > this.capacity) {
        throw new QueueFullError(this.capacity, incoming);
      }
      const oldest = this.#shift() as E[];
      this.#dropped += oldest.length;
      safely(() => this.#options.onDrop?.(oldest));
      safely(() => this.#options.onEgress?.(oldest));
    }
    this.#options.onIngress?.(events);
    this.#in.push(events);
    this.#waiting += incoming;
    if (!this.#draining) void this.#drain();
  }

  close(): Promise<void> {
    // Once nothing is waiting or in flight, close the sink behind.
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#draining) this.#idle = resolve;
      else resolve();
    }).then(() => this.#sink.close());
    return this.#closing;
  }

  #shift(): E[] | undefined {
    if (this.#out.length === 0) {
      this.#out = this.#in.reverse();
      this.#in = [];
    }
    const events = this.#out.pop();
    if (events) this.#waiting -= events.length;
    return events;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    for (let handed = this.#shift(); handed; handed = this.#shift()) {
      this.#inFlight = handed.length;
      try {
        await this.#sink.write(...handed);
      } catch (error) {
        safely(() => (this.#options.onError ?? logLoss)(error, handed));
      }
      this.#inFlight = 0;
      safely(() => this.#options.onEgress?.(handed));
    }
    this.#draining = false;
    this.#idle?.();
  }
}

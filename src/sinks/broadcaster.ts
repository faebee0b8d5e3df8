// Fan-out to several sinks (go-events' `Broadcaster`): one dispatcher, so every sink sees the
// writes in the same order, and one failing sink does not stop the others.
import type { Event } from "../event/schema.ts";
import { type Sink, SinkClosedError } from "./sink.ts";

/**
 * Options of {@link Broadcaster}.
 *
 * @example
 * ```ts
 * import type { BroadcasterOptions } from "registry-relay";
 * const options: BroadcasterOptions = {
 *   onError: (error, sink) => console.warn(`broadcaster: ${sink} failed:`, error),
 * };
 * ```
 */
export interface BroadcasterOptions<E = Event> {
  /** Called once per sink that rejected a write (or failed to close), in list order. */
  onError?(error: unknown, sink: Sink<E>, events: E[]): void;
}

/**
 * Rejection of a {@link Broadcaster} write (or close) in which some sinks failed; every other
 * sink was still written. `errors` holds one error per failed sink, in list order.
 *
 * @example
 * ```ts
 * import { BroadcastError } from "registry-relay";
 * try { await broadcaster.write(event); } catch (e) {
 *   if (e instanceof BroadcastError) console.warn(e.message, e.errors);
 * }
 * ```
 */
export class BroadcastError extends AggregateError {
  override readonly name = "BroadcastError";
  /** How many sinks were attempted. */
  declare readonly sinks: number;
  constructor(errors: unknown[], sinks: number, what = "write") {
    super(errors, `broadcaster: ${what} failed for ${errors.length} of ${sinks} sinks`);
    this.sinks = sinks;
  }
}

/**
 * Writes every write to each of its sinks, sequentially in list order, through a single
 * dispatcher (writes are handled in arrival order, so all sinks see the same order). A sink that
 * rejects with {@link SinkClosedError} is removed; other failures are collected: the write
 * rejects with {@link BroadcastError} after all other sinks were written. `close` closes every
 * sink in order.
 *
 * @example
 * ```ts
 * import { Broadcaster } from "registry-relay";
 * const broadcaster = new Broadcaster([endpointA, endpointB], {
 *   onError: (error, sink) => console.warn(`${sink}:`, error),
 * });
 * await broadcaster.write(...envelope.events);
 * ```
 */
export class Broadcaster<E = Event> implements Sink<E> {
  readonly #sinks: Sink<E>[];
  readonly #onError: BroadcasterOptions<E>["onError"];
  #tail: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(sinks: Iterable<Sink<E>> = [], options: BroadcasterOptions<E> = {}) {
    this.#sinks = [...new Set(sinks)];
    this.#onError = options.onError;
  }

  /** How many sinks are currently written to. */
  get size(): number {
    return this.#sinks.length;
  }

  /** Adds `sink` at the end (no-op if present). Rejects {@link SinkClosedError} after close. */
  add(sink: Sink<E>): Promise<void> {
    return this.#dispatch(() => {
      if (!this.#sinks.includes(sink)) this.#sinks.push(sink);
    });
  }

  /** Removes `sink` (no-op if absent). Rejects {@link SinkClosedError} after close. */
  remove(sink: Sink<E>): Promise<void> {
    return this.#dispatch(() => this.#drop(sink));
  }

  write(...events: E[]): Promise<void> {
    return this.#dispatch(async () => {
      if (events.length > 0) await this.#each([...this.#sinks], "write", events);
    });
  }

  close(): Promise<void> {
    // Close is the dispatcher's last task: it waits for pending writes, then refuses new work.
    this.#closing ??= this.#tail.then(() => this.#each(this.#sinks.splice(0), "close", []));
    return this.#closing;
  }

  /** Writes or closes each sink in turn; a closed sink is dropped, other failures collected. */
  async #each(targets: Sink<E>[], what: "write" | "close", events: E[]): Promise<void> {
    const errors: unknown[] = [];
    for (const sink of targets) {
      try {
        await (what === "write" ? sink.write(...events) : sink.close());
      } catch (error) {
        if (error instanceof SinkClosedError) {
          this.#drop(sink);
          continue;
        }
        errors.push(error);
        try {
          this.#onError?.(error, sink, events);
        } catch {
          // A throwing observer must not turn one sink's failure into everyone's.
        }
      }
    }
    if (errors.length > 0) throw new BroadcastError(errors, targets.length, what);
  }

  /** Runs `task` after every task dispatched before it; the chain survives failures. */
  #dispatch(task: () => void | Promise<void>): Promise<void> {
    if (this.#closing) return Promise.reject(new SinkClosedError("broadcaster"));
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #drop(sink: Sink<E>): void {
    const index = this.#sinks.indexOf(sink);
    if (index >= 0) this.#sinks.splice(index, 1);
  }
}

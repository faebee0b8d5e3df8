import type { Event } from "../event/schema.ts";

/**
 * A destination for events, in the shape of go-events' `Sink`: behaviour comes from
 * composition, each sink wrapping another (filter → queue → retry → http). `write` resolves once
 * the events are committed to this sink (a queue: accepted; the HTTP sink: acknowledged by the
 * receiver) and rejects if they were not; `close` flushes what the sink owns, then releases it.
 *
 * The close rule of every sink here: `close()` is idempotent (later calls return the first call's
 * promise) and a `write` after it rejects with {@link SinkClosedError}. Upstream's notifications
 * errored on a second close, go-events returned nil; we follow go-events so that a shutdown path
 * that closes twice need not special-case it.
 *
 * @example
 * ```ts
 * import type { Sink, Event } from "registry-relay";
 * const seen: Event[] = [];
 * const memory: Sink = {
 *   async write(...events) { seen.push(...events); },
 *   async close() {},
 * };
 * ```
 */
export interface Sink<E = Event> {
  write(...events: E[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Thrown (as a rejection) by a sink that has been closed. Terminal: do not retry.
 *
 * @example
 * ```ts
 * import { SinkClosedError } from "registry-relay";
 * try { await sink.write(event); } catch (e) { if (e instanceof SinkClosedError) stop(); }
 * ```
 */
export class SinkClosedError extends Error {
  override readonly name = "SinkClosedError";
  constructor(sink = "sink") {
    super(`${sink}: closed`);
  }
}

// The endpoint's ignore filter (distribution's `ignoredSink`): drops events by target media type
// or action before they reach the queue, so dropped events never count in any metric.
import type { Event } from "../event/schema.ts";
import { type Sink, SinkClosedError } from "./sink.ts";

/**
 * What {@link IgnoredSink} drops: exact, case-sensitive matches (no wildcards, no parameter
 * stripping), as in distribution.
 *
 * @example
 * ```ts
 * import type { IgnoreRules } from "registry-relay";
 * const rules: IgnoreRules = { mediaTypes: ["application/octet-stream"], actions: ["pull"] };
 * ```
 */
export interface IgnoreRules {
  /** Drop events whose `target.mediaType` is one of these. */
  mediaTypes?: Iterable<string>;
  /** Drop events whose `action` is one of these. */
  actions?: Iterable<string>;
}

/** The fields the filter looks at. */
type Filterable = { action: string; target?: { mediaType?: string | undefined } };

/**
 * The ignore rules as a plain predicate: `true` for an event they drop (its `action`, or its
 * `target.mediaType`, is listed). {@link IgnoredSink} filters with it; so does anything that needs
 * the same decision without a sink, such as the relay's ingest.
 *
 * @example
 * ```ts
 * import { BlobMediaType, ignoredBy } from "registry-relay";
 * const ignored = ignoredBy({ mediaTypes: [BlobMediaType], actions: ["pull"] });
 * const kept = envelope.events.filter((event) => !ignored(event));
 * ```
 */
export function ignoredBy(rules: IgnoreRules = {}): (event: Filterable) => boolean {
  const mediaTypes = new Set<string | undefined>(rules.mediaTypes);
  const actions = new Set(rules.actions);
  mediaTypes.delete(undefined);
  return (event) => actions.has(event.action) || mediaTypes.has(event.target?.mediaType);
}

/**
 * Drops events whose `target.mediaType` or `action` is ignored and forwards the survivors of a
 * write as one write (nothing is written when none survive; the write still resolves). An
 * actions-only filter works (upstream bug #2916 is fixed here). Close closes the sink behind it
 * (distribution v2's behaviour; v3 forgot to). `rules` may also be a predicate of its own (true:
 * drop), such as the negation of an endpoint's routing (`routesTo`).
 *
 * @example
 * ```ts
 * import { BlobMediaType, IgnoredSink } from "registry-relay";
 * const manifestPushesOnly = new IgnoredSink(queue, { mediaTypes: [BlobMediaType], actions: ["pull"] });
 * await manifestPushesOnly.write(...envelope.events);
 * ```
 */
export class IgnoredSink<E extends Filterable = Event> implements Sink<E> {
  readonly #sink: Sink<E>;
  #closing: Promise<void> | undefined;
  /** Whether `event` is dropped by these rules ({@link ignoredBy}). */
  declare readonly ignores: (event: E) => boolean;

  constructor(sink: Sink<E>, rules: IgnoreRules | ((event: E) => boolean) = {}) {
    this.#sink = sink;
    this.ignores = typeof rules === "function" ? rules : ignoredBy(rules);
  }

  async write(...events: E[]): Promise<void> {
    if (this.#closing) throw new SinkClosedError("ignoredSink");
    const survivors = events.filter((event) => !this.ignores(event));
    if (survivors.length > 0) await this.#sink.write(...survivors);
  }

  close(): Promise<void> {
    this.#closing ??= this.#sink.close();
    return this.#closing;
  }
}

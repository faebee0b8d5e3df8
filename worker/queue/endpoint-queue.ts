// The EndpointQueue Durable Object: one durable, strictly ordered queue per (endpoint, partition)
// in SQLite. `enqueue` commits events (deduplicated by id) before it returns; alarms deliver the
// FIFO head through the core's HttpSink, retry on the core strategy's schedule, and move what
// cannot be delivered to dead letters. The admin RPCs list, replay, purge, pause and resume.
// The work itself is in the modules beside it: enqueue.ts (input and rows), delivery.ts (the
// batch and its success), failure.ts (a failed attempt), admin.ts (list, replay, purge) and
// store.ts (schema and meta).
import { DurableObject } from "cloudflare:workers";
import { outputFormats } from "../../src/formats/output.ts";
import { HttpSink } from "../../src/sinks/http.ts";
import { EndpointMetrics } from "../../src/sinks/metrics.ts";
import { describeFailure } from "../../src/sinks/retry-policy.ts";
import { loadRelayConfig, type RelayEndpoint, type RelayVars } from "../env.ts";
import {
  checkListInput,
  checkReplayIds,
  type ListInput,
  type ListResult,
  listPage,
  purgeDead,
  QueueInputError,
  replayDead,
} from "./admin.ts";
import {
  encodedOf,
  headBatch,
  LATENCY_BUCKETS_MS,
  leaseBatch,
  outgoingMediaType,
  recordSuccess,
} from "./delivery.ts";
import {
  checkEnqueueInput,
  commitEvents,
  type EnqueueInput,
  type EnqueueResult,
  pruneSeen,
} from "./enqueue.ts";
import { recordFailure } from "./failure.ts";
import { type QueueStatus, readStatus } from "./status.ts";
import {
  changedFields,
  copyMeta,
  emptyMeta,
  migrate,
  type QueueMeta,
  readMeta,
  writeMeta,
} from "./store.ts";

export type { ListInput, ListResult } from "./admin.ts";
export { QueueInputError } from "./admin.ts";
export { LATENCY_BUCKETS_MS } from "./delivery.ts";
export {
  DEDUP_RETENTION_MS,
  type EnqueueInput,
  type EnqueueResult,
  type QueuedEvent,
} from "./enqueue.ts";
export type { QueueStatus } from "./status.ts";

/** Wall time one delivery pass spends before it yields (and re-arms at once if work is left). */
const ALARM_BUDGET_MS = 20_000;

/** Attempts one delivery pass makes at most before it yields (other RPCs get their turn). */
const ATTEMPTS_PER_ALARM = 500;

/** How long a lease outlives an attempt's timeout: a crashed attempt is redone after both. */
export const LEASE_MARGIN_MS = 2_000;

/** When the endpoint's config is missing, disabled or invalid, delivery looks again after this
 * long (events stay queued; `resume` looks at once). */
export const CONFIG_RECHECK_MS = 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * The longest `reason` {@link EndpointQueue.pause} takes, in UTF-16 code units (`.length`), the
 * same limit as the admin API's `POST /v1/endpoints/:name/pause`.
 */
export const MAX_PAUSE_REASON_LENGTH = 500;

/** The Worker's bindings as bindings.ts declares them (which imports this file, so not from it). */
type QueueEnv = RelayVars & { ENDPOINT_QUEUE: DurableObjectNamespace<EndpointQueue> };

/**
 * One endpoint partition's durable delivery queue (SQLite-backed Durable Object).
 *
 * - `enqueue` commits rows in one transaction (deduplicated by event id for
 *   `DEDUP_RETENTION_MS`), arms the alarm and only then returns, so the Worker's 202 means
 *   "durable". Each row keeps the event's JSON text as the registry sent it.
 * - `alarm` delivers strictly in order: the head batch (up to `maxBatch` events of one media
 *   type) gets one HttpSink attempt at a time; nothing behind it moves while it waits. The attempt
 *   is counted and leased in storage before the POST, so a crash redelivers (at least once).
 *   Each failure is decided by the core retry policy (`decideRetry`, as RetryingSink): final
 *   failures (4xx but 408/409/425/429, 301/308, unbuildable requests) and exhausted
 *   `maxAttempts`/`maxAge` (3 days unless set) become dead letters; 410 also pauses.
 * - Admin: `status`, `list`, `replay`, `purge`, `pause`, `resume`.
 *
 * Config (URL, headers, secret, strategy) is read from `RELAY_ENDPOINTS` by name on every pass;
 * nothing secret is stored or returned.
 */
export class EndpointQueue extends DurableObject<QueueEnv> {
  #meta: QueueMeta = emptyMeta(LATENCY_BUCKETS_MS.length);
  /** True while this instance's delivery pass runs (the input gate opens during each POST). */
  #delivering = false;

  constructor(ctx: DurableObjectState, env: QueueEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage);
      this.#meta = readMeta(ctx.storage.sql, LATENCY_BUCKETS_MS.length);
      // Self-heal: pending work with no alarm (e.g. a lost schedule) gets one now.
      if ((await ctx.storage.getAlarm()) === null) await this.#arm();
    });
  }

  /**
   * Commits the events (those whose id this queue already accepted count as duplicates), arms
   * delivery, then resolves. Throws {@link QueueInputError} for malformed input and an error
   * when the endpoint is not configured or this object already holds another endpoint/partition.
   */
  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const { endpoint, partition, mediaType, rows } = checkEnqueueInput(input);
    const configured = loadRelayConfig(this.env).endpoints.some((e) => e.name === endpoint);
    if (!configured) {
      throw new Error(`enqueue: endpoint ${JSON.stringify(endpoint)} is not in RELAY_ENDPOINTS`);
    }
    const bound = this.#meta.endpoint;
    if (bound !== null && (bound !== endpoint || this.#meta.partition !== partition)) {
      throw new Error(
        `enqueue: this queue belongs to endpoint ${JSON.stringify(bound)} partition ${this.#meta.partition}, not ${JSON.stringify(endpoint)} partition ${partition}`,
      );
    }
    const now = Date.now();
    const result = this.#transact((meta) => {
      meta.endpoint = endpoint;
      meta.partition = partition;
      const committed = commitEvents(this.ctx.storage.sql, rows, mediaType, now);
      meta.counters.events += committed.queued;
      return committed;
    });
    if (now - this.#meta.prunedAt >= PRUNE_EVERY_MS) {
      this.#transact((meta) => {
        pruneSeen(this.ctx.storage.sql, now);
        meta.prunedAt = now;
      });
    }
    if (result.queued > 0) {
      await this.#arm();
      this.#kick();
    }
    return result;
  }

  /** The queue's state and counters. */
  async status(): Promise<QueueStatus> {
    return readStatus(this.ctx.storage.sql, this.#meta, Date.now(), this.#dueAt());
  }

  /** A page of pending or dead events in FIFO order; pass `nextCursor` back for the next page. */
  async list(input: ListInput): Promise<ListResult> {
    return listPage(this.ctx.storage.sql, checkListInput(input));
  }

  /**
   * Moves dead letters (all, or the given ids) back to the tail of the queue in their original
   * order, with attempts reset, and resumes delivery (unless paused).
   */
  async replay(input: { ids?: string[] } = {}): Promise<{ replayed: number }> {
    const ids = checkReplayIds(input);
    const now = Date.now();
    const replayed = this.#transact(() => replayDead(this.ctx.storage.sql, ids, now));
    if (replayed > 0) {
      await this.#arm();
      this.#kick();
    }
    return { replayed };
  }

  /** Deletes every dead letter (pending events are untouched). */
  async purge(): Promise<{ purged: number }> {
    const purged = this.#transact(() => purgeDead(this.ctx.storage.sql));
    return { purged };
  }

  /**
   * Stops delivery (an attempt already in flight completes). Events keep being accepted. A
   * `reason` longer than {@link MAX_PAUSE_REASON_LENGTH} is rejected ({@link QueueInputError}),
   * never cut.
   */
  async pause(reason?: string): Promise<QueueStatus> {
    if (reason !== undefined && typeof reason !== "string") {
      throw new QueueInputError("reason", "must be a string");
    }
    if (reason !== undefined && reason.length > MAX_PAUSE_REASON_LENGTH) {
      throw new QueueInputError(
        "reason",
        `must be at most ${MAX_PAUSE_REASON_LENGTH} characters, got ${reason.length}`,
      );
    }
    const why = reason?.trim() || "paused by admin";
    this.#transact((meta) => {
      meta.paused = true;
      meta.pauseReason = why;
    });
    await this.ctx.storage.deleteAlarm();
    return this.status();
  }

  /** Restarts delivery: the head is attempted now, whatever backoff it was waiting out. */
  async resume(): Promise<QueueStatus> {
    const now = Date.now();
    this.#transact((meta) => {
      meta.paused = false;
      meta.pauseReason = null;
      meta.holdUntil = 0;
      // A batch in flight keeps its lease; its outcome sets its next attempt.
      if (this.#delivering) return;
      this.ctx.storage.sql.exec(
        "UPDATE events SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at > ?",
        now,
        now,
      );
    });
    await this.#arm();
    this.#kick();
    return this.status();
  }

  /**
   * Delivers due work in order until none is left, the queue pauses, or the pass's budget is
   * spent; then re-arms for the next due time. Never throws for a delivery problem (the
   * platform retries a throwing alarm only six times); the schedule lives in storage.
   */
  override async alarm(): Promise<void> {
    await this.#pass();
  }

  /**
   * Starts a delivery pass right away, without waiting for the alarm to fire (alarms take tens
   * of ms to fire, which would dominate ingest-to-receipt latency). The alarm armed before stays
   * the durable backstop: if this pass dies with the object, the alarm redoes the work.
   */
  #kick(): void {
    if (this.#delivering || this.#dueAt() === null) return;
    this.ctx.waitUntil(
      this.#pass().catch((error) => {
        console.error(`${this.#label()}: re-arming failed: ${describeFailure(error)}`);
      }),
    );
  }

  /** One delivery pass; at most one runs at a time in this instance. */
  async #pass(): Promise<void> {
    // A second pass while one is mid-POST (the input gate is open) would resend the same head.
    if (this.#delivering) return;
    this.#delivering = true;
    const started = Date.now();
    // The endpoint's config is looked up once per pass (bindings do not change under a pass).
    let config: RelayEndpoint | undefined;
    const configOf = (name: string) => (config ??= this.#endpointConfig(name));
    try {
      for (let n = 0; n < ATTEMPTS_PER_ALARM && Date.now() - started < ALARM_BUDGET_MS; n++) {
        if (!(await this.#attemptHead(configOf))) break;
      }
    } catch (error) {
      console.error(`${this.#label()}: delivery pass failed: ${describeFailure(error)}`);
    } finally {
      this.#delivering = false;
    }
    // If even this fails, throwing lets the platform retry the alarm.
    await this.#rearm();
  }

  /**
   * One attempt at the head batch; false when there is nothing to do now. `configOf` is the
   * pass's lookup of the endpoint's config ({@link EndpointQueue.#endpointConfig}).
   */
  async #attemptHead(configOf: (name: string) => RelayEndpoint): Promise<boolean> {
    const meta = this.#meta;
    const now = Date.now();
    if (meta.paused || meta.endpoint === null) return false;
    const head = this.#head();
    if (head === undefined || Math.max(head.next_attempt_at, meta.holdUntil) > now) return false;
    const sql = this.ctx.storage.sql;

    let config: RelayEndpoint;
    let sink: HttpSink;
    const metrics = new EndpointMetrics();
    try {
      config = configOf(meta.endpoint);
      sink = new HttpSink(config.url, {
        headers: config.headers,
        timeout: config.timeout,
        mediaType: outgoingMediaType(head.media_type, config),
        format: outputFormats[config.format],
        ...(config.secret && { secret: config.secret }),
        maxBatch: config.maxBatch,
        metrics,
      });
    } catch (error) {
      // Without a usable config nothing can be sent: keep every event, say why, look again later.
      const why = describeFailure(error);
      this.#transact((m) => {
        m.lastError = why;
        m.holdUntil = now + CONFIG_RECHECK_MS;
      });
      console.warn(`${this.#label()}: delivery held: ${why}`);
      return false;
    }
    const batch = headBatch(sql, config.maxBatch);
    // Count the attempt and take a lease before the POST: a crash mid-POST leaves the head due
    // again when the lease ends (at least once), and a concurrent pass sees it as not due.
    const leaseUntil = now + sink.timeout + LEASE_MARGIN_MS;
    this.#transact(() => leaseBatch(sql, batch, now, leaseUntil));
    await this.ctx.storage.setAlarm(leaseUntil);

    const events = batch.map(encodedOf);
    let failure: unknown;
    let failed = false;
    try {
      await sink.writeEncoded(...events);
    } catch (error) {
      failed = true;
      failure = error;
    }
    const done = Date.now();
    const attempt = metrics.snapshot();
    if (!failed) {
      this.#transact((m) => recordSuccess(sql, m, batch, attempt, done));
      return true;
    }
    const startedAt = now;
    const { dead, message } = this.#transact((m) =>
      recordFailure(sql, m, { config, batch, events, failure, attempt, startedAt, done }),
    );
    if (dead.length > 0) {
      const reasons = [...new Set(dead.map((d) => d.reason))].join(", ");
      console.warn(
        `${this.#label()}: ${dead.length} event(s) dead-lettered (${reasons}): ${message}`,
      );
    }
    return true;
  }

  /** The endpoint's config by name; throws when it is gone, disabled or the config is bad. */
  #endpointConfig(name: string): RelayEndpoint {
    const config = loadRelayConfig(this.env).endpoints.find((e) => e.name === name);
    if (config === undefined) {
      throw new Error(`endpoint ${JSON.stringify(name)} is no longer in RELAY_ENDPOINTS`);
    }
    if (config.disabled) throw new Error(`endpoint ${JSON.stringify(name)} is disabled`);
    return config;
  }

  /** The pending FIFO's head: when it is due and the line it arrived on. */
  #head(): { next_attempt_at: number; media_type: string } | undefined {
    return this.ctx.storage.sql
      .exec<{ next_attempt_at: number; media_type: string }>(
        "SELECT next_attempt_at, media_type FROM events WHERE state = 'pending' ORDER BY seq LIMIT 1",
      )
      .toArray()[0];
  }

  /** When the head may next be attempted; null when paused or empty. */
  #dueAt(): number | null {
    if (this.#meta.paused) return null;
    const head = this.#head();
    return head === undefined ? null : Math.max(head.next_attempt_at, this.#meta.holdUntil);
  }

  /** Makes sure an alarm fires no later than the head is due. */
  async #arm(): Promise<void> {
    const due = this.#dueAt();
    if (due === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due) await this.ctx.storage.setAlarm(due);
  }

  /** Sets the alarm to exactly when the head is due (or clears it when there is nothing). */
  async #rearm(): Promise<void> {
    if (this.#delivering) return;
    const due = this.#dueAt();
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }

  /** Runs `work` and the meta changes it makes in one SQLite transaction. */
  #transact<T>(work: (meta: QueueMeta) => T): T {
    const draft = copyMeta(this.#meta);
    const result = this.ctx.storage.transactionSync(() => {
      const value = work(draft);
      writeMeta(this.ctx.storage.sql, changedFields(this.#meta, draft));
      return value;
    });
    this.#meta = draft;
    return result;
  }

  #label(): string {
    return `EndpointQueue{${this.#meta.endpoint ?? "?"}#${this.#meta.partition ?? "?"}}`;
  }
}

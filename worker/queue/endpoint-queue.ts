// The EndpointQueue Durable Object: one durable, strictly ordered queue per (endpoint, partition)
// in SQLite. `enqueue` commits events (deduplicated by id) before it returns; alarms deliver the
// FIFO head through the core's HttpSink, retry on the core strategy's schedule, and move what
// cannot be delivered to dead letters. The admin RPCs list, replay, purge, pause and resume.
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { strategyFor } from "../../src/endpoint/endpoint.ts";
import { EndpointMetrics } from "../../src/sinks/metrics.ts";
import { type Event, EventSchema } from "../../src/event/schema.ts";
import { HttpSink } from "../../src/sinks/http.ts";
import {
  type DeadLetterReason,
  decideRetry,
  deliveredBefore,
  describeFailure,
  type RetryDecision,
  sensitiveValues,
} from "../../src/sinks/retry-policy.ts";
import { type Env, loadRelayConfig, type RelayEndpoint } from "../env.ts";
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
  addAttemptCounters,
  answeredStatus,
  observeLatency,
  outgoingMediaType,
} from "./delivery.ts";
import { type EventRow, emptyMeta, migrate, type QueueMeta, readMeta, writeMeta } from "./store.ts";

export type { ListInput, ListResult, QueueItem } from "./admin.ts";
export { QueueInputError } from "./admin.ts";

/**
 * Upper bounds (ms) of the ingest-to-receipt latency histogram in {@link QueueStatus}: the time
 * from `enqueue` committing an event to a 2xx (or 3xx) from the endpoint.
 *
 * @example
 * ```ts
 * import { LATENCY_BUCKETS_MS } from "./endpoint-queue.ts";
 * const le = LATENCY_BUCKETS_MS.map((bound) => `${bound / 1000}`); // Prometheus `le` labels
 * ```
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
];

/**
 * How long an event id is remembered for deduplication (at least 24 h, as promised); older ids
 * are pruned in bounded batches (ids of events still queued are kept).
 *
 * @example
 * ```ts
 * import { DEDUP_RETENTION_MS } from "./endpoint-queue.ts";
 * const forgottenAfter = new Date(acceptedAt + DEDUP_RETENTION_MS);
 * ```
 */
export const DEDUP_RETENTION_MS = 24 * 3_600_000;

/**
 * Wall time one delivery pass spends before it yields (and re-arms at once if work is left).
 *
 * @example
 * ```ts
 * import { ALARM_BUDGET_MS } from "./endpoint-queue.ts";
 * const worstCasePasses = Math.ceil(backlogMs / ALARM_BUDGET_MS);
 * ```
 */
export const ALARM_BUDGET_MS = 20_000;

/**
 * Attempts one delivery pass makes at most before it yields.
 *
 * @example
 * ```ts
 * import { ATTEMPTS_PER_ALARM } from "./endpoint-queue.ts";
 * const passes = Math.ceil(depth / maxBatch / ATTEMPTS_PER_ALARM);
 * ```
 */
export const ATTEMPTS_PER_ALARM = 500;

/**
 * How long a lease outlives the attempt's timeout: an attempt cut by a crash is redone when
 * `timeout + LEASE_MARGIN_MS` has passed since it started.
 *
 * @example
 * ```ts
 * import { LEASE_MARGIN_MS } from "./endpoint-queue.ts";
 * const redeliveryAfterCrashMs = config.timeout + LEASE_MARGIN_MS;
 * ```
 */
export const LEASE_MARGIN_MS = 2_000;

/**
 * When the endpoint's config is missing, disabled or invalid, delivery looks again after this
 * long (events stay queued; `resume` looks at once).
 *
 * @example
 * ```ts
 * import { CONFIG_RECHECK_MS } from "./endpoint-queue.ts";
 * console.log(`next look in ${CONFIG_RECHECK_MS / 1000}s`);
 * ```
 */
export const CONFIG_RECHECK_MS = 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_ROWS = 1_000;

/**
 * The longest `reason` {@link EndpointQueue.pause} takes, in UTF-16 code units (`.length`), the
 * same limit as the admin API's `POST /v1/endpoints/:name/pause`.
 *
 * @example
 * ```ts
 * import { MAX_PAUSE_REASON_LENGTH } from "./endpoint-queue.ts";
 * const fits = (reason: string) => reason.length <= MAX_PAUSE_REASON_LENGTH;
 * ```
 */
export const MAX_PAUSE_REASON_LENGTH = 500;

/**
 * The input of {@link EndpointQueue.enqueue}: events of one envelope (already filtered for this
 * endpoint), the line they arrived on, and the queue's identity.
 *
 * @example
 * ```ts
 * import type { EnqueueInput } from "./endpoint-queue.ts";
 * const input: EnqueueInput = { endpoint: "audit", partition: 0, mediaType, events: envelope.events };
 * ```
 */
export interface EnqueueInput {
  endpoint: string;
  partition: number;
  mediaType: string;
  events: Event[];
}

/**
 * What an enqueue committed: new events queued, and events whose id was already accepted.
 *
 * @example
 * ```ts
 * import type { EnqueueResult } from "./endpoint-queue.ts";
 * const all = (r: EnqueueResult) => r.queued + r.duplicates;
 * ```
 */
export interface EnqueueResult {
  queued: number;
  duplicates: number;
}

/**
 * The state of one queue: identity, pause, backlog, last outcome, counters (per attempt, as
 * distribution counts them) and the ingest-to-receipt latency histogram (cumulative `buckets`
 * for {@link LATENCY_BUCKETS_MS}). `endpoint` is `""` and `partition` `-1` until the first
 * enqueue. No URL, header or secret is ever part of it.
 *
 * @example
 * ```ts
 * import type { QueueStatus } from "./endpoint-queue.ts";
 * const healthy = (s: QueueStatus) => !s.paused && s.deadLetters === 0;
 * ```
 */
export interface QueueStatus {
  endpoint: string;
  partition: number;
  paused: boolean;
  pauseReason?: string;
  depth: number;
  oldestPendingAgeMs: number | null;
  deadLetters: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  metrics: {
    events: number;
    successes: number;
    failures: number;
    errors: number;
    deadLettered: number;
    statuses: Record<string, number>;
  };
  latency: { buckets: number[]; sum: number; count: number };
}

const EnqueueSchema = v.object({
  endpoint: v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty")),
  partition: v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(0, "must be >= 0"),
  ),
  mediaType: v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty")),
  events: v.array(v.unknown(), "must be a list of events"),
});

/** `events[2].target.repository`-style path of a valibot issue. */
function issuePath(prefix: string, issue: v.BaseIssue<unknown>): string {
  let path = prefix;
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    path += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  }
  return path;
}

/** Checks an enqueue input; events are validated but kept as given (key order matters). */
function checkEnqueueInput(input: unknown): EnqueueInput {
  const shape = v.safeParse(EnqueueSchema, input);
  if (!shape.success) {
    const issue = shape.issues[0];
    throw new QueueInputError(issuePath("", issue).replace(/^\./, "") || "input", issue.message);
  }
  shape.output.events.forEach((event, index) => {
    if (v.is(EventSchema, event)) return;
    const result = v.safeParse(EventSchema, event);
    const issue = result.issues?.[0];
    throw new QueueInputError(
      issue ? issuePath(`events[${index}]`, issue) : `events[${index}]`,
      issue?.message ?? "is not an event",
    );
  });
  return shape.output as EnqueueInput;
}

/** Deep copy of the meta, so a failed transaction leaves the in-memory copy untouched. */
function copyMeta(meta: QueueMeta): QueueMeta {
  return JSON.parse(JSON.stringify(meta)) as QueueMeta;
}

/** The meta fields whose value differs between two copies. */
function changedFields(before: QueueMeta, after: QueueMeta): Partial<QueueMeta> {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(value) !== JSON.stringify(before[key as keyof QueueMeta])) {
      changed[key] = value;
    }
  }
  return changed as Partial<QueueMeta>;
}

/**
 * One endpoint partition's durable delivery queue (SQLite-backed Durable Object).
 *
 * - `enqueue` commits rows in one transaction (deduplicated by event id for
 *   {@link DEDUP_RETENTION_MS}), arms the alarm and only then returns, so the Worker's 202 means
 *   "durable".
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
 *
 * @example
 * ```ts
 * import { queueName } from "./partition.ts";
 * const stub = env.ENDPOINT_QUEUE.get(env.ENDPOINT_QUEUE.idFromName(queueName("audit", 0)));
 * await stub.enqueue({ endpoint: "audit", partition: 0, mediaType, events });
 * const { depth, deadLetters } = await stub.status();
 * ```
 */
export class EndpointQueue extends DurableObject<Env> {
  #meta: QueueMeta = emptyMeta(LATENCY_BUCKETS_MS.length);
  /** True while this instance's delivery pass runs (the input gate opens during each POST). */
  #delivering = false;

  constructor(ctx: DurableObjectState, env: Env) {
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
   *
   * @example
   * ```ts
   * const { queued, duplicates } = await stub.enqueue({ endpoint: "audit", partition: 0, mediaType, events });
   * ```
   */
  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const { endpoint, partition, mediaType, events } = checkEnqueueInput(input);
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
    const sql = this.ctx.storage.sql;
    const result = this.#transact((meta) => {
      meta.endpoint = endpoint;
      meta.partition = partition;
      let queued = 0;
      let duplicates = 0;
      for (const event of events) {
        const fresh = sql
          .exec(
            "INSERT INTO seen (id, accepted_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            event.id,
            now,
          )
          .toArray();
        if (fresh.length === 0) {
          duplicates++;
          continue;
        }
        sql.exec(
          `INSERT INTO events (id, action, repository, media_type, body, accepted_at, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          event.id,
          event.action,
          event.target.repository,
          mediaType,
          JSON.stringify(event),
          now,
          now,
        );
        queued++;
      }
      meta.counters.events += queued;
      return { queued, duplicates };
    });
    if (now - this.#meta.prunedAt >= PRUNE_EVERY_MS) this.#pruneSeen(now);
    if (result.queued > 0) {
      await this.#arm();
      this.#kick();
    }
    return result;
  }

  /**
   * The queue's state and counters.
   *
   * @example
   * ```ts
   * const { depth, oldestPendingAgeMs, metrics } = await stub.status();
   * ```
   */
  async status(): Promise<QueueStatus> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const pending = sql
      .exec<{ n: number; oldest: number | null }>(
        "SELECT COUNT(*) AS n, MIN(accepted_at) AS oldest FROM events WHERE state = 'pending'",
      )
      .one();
    const dead = sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE state = 'dead'")
      .one();
    const meta = this.#meta;
    const { counters, latency } = meta;
    return {
      endpoint: meta.endpoint ?? "",
      partition: meta.partition ?? -1,
      paused: meta.paused,
      ...(meta.pauseReason !== null && { pauseReason: meta.pauseReason }),
      depth: pending.n,
      oldestPendingAgeMs: pending.oldest === null ? null : Math.max(0, now - pending.oldest),
      deadLetters: dead.n,
      lastStatus: meta.lastStatus,
      lastError: meta.lastError,
      nextAttemptAt: meta.paused ? null : this.#dueAt(),
      metrics: { ...counters, statuses: { ...counters.statuses } },
      latency: { buckets: [...latency.buckets], sum: latency.sum, count: latency.count },
    };
  }

  /**
   * A page of pending or dead events in FIFO order; pass `nextCursor` back for the next page.
   *
   * @example
   * ```ts
   * const { items, nextCursor } = await stub.list({ state: "dead", limit: 100 });
   * ```
   */
  async list(input: ListInput): Promise<ListResult> {
    return listPage(this.ctx.storage.sql, checkListInput(input));
  }

  /**
   * Moves dead letters (all, or the given ids) back to the tail of the queue in their original
   * order, with attempts reset, and resumes delivery (unless paused).
   *
   * @example
   * ```ts
   * const { replayed } = await stub.replay({ ids: ["4c1d..."] });
   * ```
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

  /**
   * Deletes every dead letter (pending events are untouched).
   *
   * @example
   * ```ts
   * const { purged } = await stub.purge();
   * ```
   */
  async purge(): Promise<{ purged: number }> {
    const purged = this.#transact(() => purgeDead(this.ctx.storage.sql));
    return { purged };
  }

  /**
   * Stops delivery (an attempt already in flight completes). Events keep being accepted. A
   * `reason` longer than {@link MAX_PAUSE_REASON_LENGTH} is rejected ({@link QueueInputError}),
   * never cut.
   *
   * @example
   * ```ts
   * await stub.pause("receiver maintenance");
   * ```
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

  /**
   * Restarts delivery: the head is attempted now, whatever backoff it was waiting out.
   *
   * @example
   * ```ts
   * await stub.resume();
   * ```
   */
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
   *
   * @example
   * ```ts
   * import { runDurableObjectAlarm } from "cloudflare:test";
   * await runDurableObjectAlarm(stub); // runs this handler now (tests)
   * ```
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
    try {
      for (let n = 0; n < ATTEMPTS_PER_ALARM && Date.now() - started < ALARM_BUDGET_MS; n++) {
        if (!(await this.#attemptHead())) break;
      }
    } catch (error) {
      console.error(`${this.#label()}: delivery pass failed: ${describeFailure(error)}`);
    } finally {
      this.#delivering = false;
    }
    // If even this fails, throwing lets the platform retry the alarm.
    await this.#rearm();
  }

  /** One attempt at the head batch; false when there is nothing to do now. */
  async #attemptHead(): Promise<boolean> {
    const meta = this.#meta;
    const now = Date.now();
    if (meta.paused || meta.endpoint === null) return false;
    const sql = this.ctx.storage.sql;
    const head = sql
      .exec<EventRow>("SELECT * FROM events WHERE state = 'pending' ORDER BY seq LIMIT 1")
      .toArray()[0];
    if (head === undefined || Math.max(head.next_attempt_at, meta.holdUntil) > now) return false;

    let config: RelayEndpoint;
    let sink: HttpSink;
    const metrics = new EndpointMetrics();
    try {
      config = this.#endpointConfig(meta.endpoint);
      sink = new HttpSink(config.url, {
        headers: config.headers,
        timeout: config.timeout,
        mediaType: outgoingMediaType(head.media_type, config),
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

    const batch = sql
      .exec<EventRow>(
        "SELECT * FROM events WHERE state = 'pending' ORDER BY seq LIMIT ?",
        config.maxBatch,
      )
      .toArray();
    const end = batch.findIndex((row) => row.media_type !== head.media_type);
    if (end > 0) batch.length = end;
    const first = head.seq;
    const last = (batch.at(-1) as EventRow).seq;
    const inBatch = "state = 'pending' AND seq BETWEEN ? AND ?";

    // Count the attempt and take a lease before the POST: a crash mid-POST leaves the head due
    // again when the lease ends (at least once), and a concurrent pass sees it as not due.
    const leaseUntil = now + sink.timeout + LEASE_MARGIN_MS;
    this.#transact(() => {
      sql.exec(
        `UPDATE events SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ?),
         next_attempt_at = ? WHERE ${inBatch}`,
        now,
        leaseUntil,
        first,
        last,
      );
    });
    await this.ctx.storage.setAlarm(leaseUntil);

    const events = batch.map((row) => JSON.parse(row.body) as Event);
    let failure: unknown;
    let failed = false;
    try {
      await sink.write(...events);
    } catch (error) {
      failed = true;
      failure = error;
    }
    const done = Date.now();
    const attempt = metrics.snapshot();
    if (!failed) {
      this.#transact((m) => {
        sql.exec(`DELETE FROM events WHERE ${inBatch}`, first, last);
        m.counters = addAttemptCounters(m.counters, attempt);
        for (const row of batch)
          m.latency = observeLatency(m.latency, LATENCY_BUCKETS_MS, done - row.accepted_at);
        m.failures = 0;
        m.lastFailureAt = 0;
        m.holdUntil = 0;
        m.lastStatus = answeredStatus(attempt);
        m.lastError = null;
      });
      return true;
    }
    this.#recordFailure(config, batch, events, failure, attempt, now, done);
    return true;
  }

  /**
   * Stores what the core retry policy decided about a failed attempt, row by row: delivered
   * (the part of a batch that got through), retry at a time, or dead letter with a reason.
   */
  #recordFailure(
    config: RelayEndpoint,
    batch: EventRow[],
    events: Event[],
    failure: unknown,
    attempt: ReturnType<EndpointMetrics["snapshot"]>,
    startedAt: number,
    done: number,
  ): void {
    const sql = this.ctx.storage.sql;
    const delivered = deliveredBefore(failure, batch.length);
    const remaining = batch.slice(delivered);
    const remainingEvents = events.slice(delivered);
    const sensitive = sensitiveValues(config);
    const dead: { seq: number; reason: DeadLetterReason }[] = [];
    let message = "";

    this.#transact((m) => {
      m.counters = addAttemptCounters(m.counters, attempt);
      for (const row of batch.slice(0, delivered)) {
        sql.exec("DELETE FROM events WHERE seq = ?", row.seq);
        m.latency = observeLatency(m.latency, LATENCY_BUCKETS_MS, done - row.accepted_at);
      }
      // The core strategy brought to the persisted streak and told about this failure, once per
      // attempt (the policy asks only when the failure is not final). Its clock is this attempt's
      // end, so the state it hands back is exactly what the next pass restores.
      let answer: number | "drop" | undefined;
      const backoff = (): number | "drop" => {
        if (answer !== undefined) return answer;
        const strategy = strategyFor(config, { now: () => done });
        strategy.restore({ failures: m.failures, lastFailureAt: m.lastFailureAt });
        const drop = strategy.failure(remainingEvents, failure);
        ({ failures: m.failures, lastFailureAt: m.lastFailureAt } = strategy.snapshot());
        answer = drop ? "drop" : strategy.proceed(remainingEvents);
        if (answer !== "drop") m.holdUntil = done + answer;
        return answer;
      };
      const decisions = remaining.map((row): [EventRow, RetryDecision] => [
        row,
        decideRetry({
          maxAttempts: config.maxAttempts,
          maxAge: config.maxAge,
          attempts: row.attempts + 1,
          firstAttemptAt: row.first_attempt_at ?? startedAt,
          error: failure,
          now: done,
          backoff,
          sensitive,
        }),
      ]);
      const status = decisions[0]?.[1].status ?? null;
      message = decisions[0]?.[1].message ?? describeFailure(failure, sensitive);
      m.lastStatus = status;
      m.lastError = message;
      for (const [row, decision] of decisions) {
        if (decision.retry) {
          sql.exec(
            "UPDATE events SET next_attempt_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
            decision.at,
            status,
            message,
            row.seq,
          );
          continue;
        }
        dead.push({ seq: row.seq, reason: decision.reason });
        sql.exec(
          `UPDATE events SET state = 'dead', dead_at = ?, reason = ?, last_status = ?, last_error = ?
           WHERE seq = ?`,
          done,
          decision.reason,
          status,
          message,
          row.seq,
        );
      }
      // The endpoint is gone: stop until an operator resumes it.
      if (status === 410 && dead.some((d) => d.reason === "final")) {
        m.paused = true;
        m.pauseReason = "410 Gone";
      }
      m.counters.deadLettered += dead.length;
    });
    if (dead.length > 0) {
      const reasons = [...new Set(dead.map((d) => d.reason))].join(", ");
      console.warn(
        `${this.#label()}: ${dead.length} event(s) dead-lettered (${reasons}): ${message}`,
      );
    }
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

  /** When the head may next be attempted; null when paused or empty. */
  #dueAt(): number | null {
    if (this.#meta.paused) return null;
    const head = this.ctx.storage.sql
      .exec<{ next_attempt_at: number }>(
        "SELECT next_attempt_at FROM events WHERE state = 'pending' ORDER BY seq LIMIT 1",
      )
      .toArray()[0];
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

  /** Forgets dedup ids older than the retention, a bounded number per call. */
  #pruneSeen(now: number): void {
    this.#transact((meta) => {
      this.ctx.storage.sql.exec(
        `DELETE FROM seen WHERE id IN (
           SELECT id FROM seen WHERE accepted_at < ? AND id NOT IN (SELECT id FROM events) LIMIT ?)`,
        now - DEDUP_RETENTION_MS,
        PRUNE_ROWS,
      );
      meta.prunedAt = now;
    });
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

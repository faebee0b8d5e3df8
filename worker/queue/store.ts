// The EndpointQueue's SQLite schema, its migrations and the small key/value `meta` table that
// holds the queue's identity, pause state, counters and retry-strategy state.

/**
 * Ordered schema migrations; entry `i` moves the database from version `i` to `i + 1`. Append
 * only: a deployed object has run the earlier ones already.
 *
 * @example
 * ```ts
 * import { MIGRATIONS } from "./store.ts";
 * const latest = MIGRATIONS.length; // the schema version a migrated database reports
 * ```
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL,
     action TEXT NOT NULL,
     repository TEXT NOT NULL,
     media_type TEXT NOT NULL,
     body TEXT NOT NULL,
     accepted_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     first_attempt_at INTEGER,
     next_attempt_at INTEGER NOT NULL,
     last_status INTEGER,
     last_error TEXT,
     state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
     dead_at INTEGER,
     reason TEXT
   );
   CREATE INDEX IF NOT EXISTS events_by_state ON events (state, seq);
   CREATE INDEX IF NOT EXISTS events_by_id ON events (id);
   CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, accepted_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX IF NOT EXISTS seen_by_age ON seen (accepted_at);
   CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
];

/**
 * Brings the database to the latest schema, one migration per transaction, and returns the
 * resulting version. Safe to run on every start (a migrated database is left alone).
 *
 * @example
 * ```ts
 * import { migrate } from "./store.ts";
 * ctx.blockConcurrencyWhile(async () => { migrate(ctx.storage); });
 * ```
 */
export function migrate(storage: DurableObjectStorage): number {
  const { sql } = storage;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  let version = row?.version ?? 0;
  if (row === undefined) sql.exec("INSERT INTO schema_version (version) VALUES (0)");
  while (version < MIGRATIONS.length) {
    const step = MIGRATIONS[version] as string;
    storage.transactionSync(() => {
      sql.exec(step);
      sql.exec("UPDATE schema_version SET version = ?", version + 1);
    });
    version++;
  }
  return version;
}

/**
 * One row of the `events` table, as SQLite returns it.
 *
 * @example
 * ```ts
 * import type { EventRow } from "./store.ts";
 * const due = (row: EventRow, now: number) => row.state === "pending" && row.next_attempt_at <= now;
 * ```
 */
export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  action: string;
  repository: string;
  media_type: string;
  body: string;
  accepted_at: number;
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  state: "pending" | "dead";
  dead_at: number | null;
  reason: string | null;
}

/**
 * Per-attempt counters in distribution's shape (`successes`, `failures`, `errors`, `statuses`)
 * plus accepted `events` and `deadLettered` events.
 *
 * @example
 * ```ts
 * import type { QueueCounters } from "./store.ts";
 * const attempts = (c: QueueCounters) => c.successes + c.failures + c.errors;
 * ```
 */
export interface QueueCounters {
  events: number;
  successes: number;
  failures: number;
  errors: number;
  deadLettered: number;
  statuses: Record<string, number>;
}

/**
 * Everything the queue keeps besides its rows. `failures`/`lastFailureAt` are the retry
 * strategy's state (consecutive failed attempts, shared by all events as upstream's breaker);
 * `holdUntil` is the earliest time the next attempt may start.
 *
 * @example
 * ```ts
 * import { readMeta } from "./store.ts";
 * const { paused, pauseReason } = readMeta(ctx.storage.sql);
 * ```
 */
export interface QueueMeta {
  endpoint: string | null;
  partition: number | null;
  paused: boolean;
  pauseReason: string | null;
  counters: QueueCounters;
  latency: { buckets: number[]; sum: number; count: number };
  failures: number;
  lastFailureAt: number;
  holdUntil: number;
  lastStatus: number | null;
  lastError: string | null;
  prunedAt: number;
}

/**
 * The meta of a queue that has never stored anything (`bucketCount` latency buckets).
 *
 * @example
 * ```ts
 * import { emptyMeta } from "./store.ts";
 * emptyMeta(13).paused; // false
 * ```
 */
export function emptyMeta(bucketCount: number): QueueMeta {
  return {
    endpoint: null,
    partition: null,
    paused: false,
    pauseReason: null,
    counters: { events: 0, successes: 0, failures: 0, errors: 0, deadLettered: 0, statuses: {} },
    latency: { buckets: new Array<number>(bucketCount).fill(0), sum: 0, count: 0 },
    failures: 0,
    lastFailureAt: 0,
    holdUntil: 0,
    lastStatus: null,
    lastError: null,
    prunedAt: 0,
  };
}

/**
 * Reads the meta table over the defaults of {@link emptyMeta} (unknown keys are ignored, missing
 * ones keep their default, so adding a field needs no migration).
 *
 * @example
 * ```ts
 * import { readMeta } from "./store.ts";
 * const meta = readMeta(ctx.storage.sql, 13);
 * ```
 */
export function readMeta(sql: SqlStorage, bucketCount: number): QueueMeta {
  const meta = emptyMeta(bucketCount) as unknown as Record<string, unknown>;
  for (const { key, value } of sql.exec<{ key: string; value: string }>(
    "SELECT key, value FROM meta",
  )) {
    if (key in meta) meta[key] = JSON.parse(value);
  }
  return meta as unknown as QueueMeta;
}

/**
 * Stores some meta fields (call inside the same transaction as the row changes they go with).
 *
 * @example
 * ```ts
 * import { writeMeta } from "./store.ts";
 * writeMeta(ctx.storage.sql, { paused: true, pauseReason: "410 Gone" });
 * ```
 */
export function writeMeta(sql: SqlStorage, fields: Partial<QueueMeta>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }
}

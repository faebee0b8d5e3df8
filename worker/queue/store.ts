// The EndpointQueue's SQLite schema, its migrations and the small key/value `meta` table that
// holds the queue's identity, pause state, counters, last hour and retry-strategy state.
import type { LatencyCounts, QueueCounters } from "../admin-api.ts";
import { type ActivityRing, emptyActivity } from "./activity.ts";

/**
 * Ordered schema migrations; entry `i` moves the database from version `i` to `i + 1`. Append
 * only: a deployed object has run the earlier ones already.
 *
 * 2: `raw`. 1: `body` is the event's JSON text exactly as received on `media_type` (sent as it is
 * when the outgoing line is the same). 0: `body` is `JSON.stringify` of the parsed event, as every
 * row stored before holds: it is parsed and encoded at delivery, as it always was.
 */
const MIGRATIONS: readonly string[] = [
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
  "ALTER TABLE events ADD COLUMN raw INTEGER NOT NULL DEFAULT 0",
];

/**
 * Brings the database to the latest schema, one migration per transaction, and returns the
 * resulting version. Safe to run on every start (a migrated database is left alone).
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

/** One row of the `events` table, as SQLite returns it. */
export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  action: string;
  repository: string;
  media_type: string;
  /** The event's JSON: as received when `raw` is 1, else `JSON.stringify` of it (see MIGRATIONS). */
  body: string;
  raw: number;
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
 * Everything the queue keeps besides its rows. `failures`/`lastFailureAt` are the retry
 * strategy's state (consecutive failed attempts, shared by all events as upstream's breaker);
 * `holdUntil` is the earliest time the next attempt may start; `activity` the last hour per minute.
 */
export interface QueueMeta {
  endpoint: string | null;
  partition: number | null;
  paused: boolean;
  pauseReason: string | null;
  counters: QueueCounters;
  latency: LatencyCounts;
  activity: ActivityRing;
  failures: number;
  lastFailureAt: number;
  holdUntil: number;
  lastStatus: number | null;
  lastError: string | null;
  prunedAt: number;
}

/** The meta of a queue that has never stored anything (`bucketCount` latency buckets). */
export function emptyMeta(bucketCount: number): QueueMeta {
  return {
    endpoint: null,
    partition: null,
    paused: false,
    pauseReason: null,
    counters: { events: 0, successes: 0, failures: 0, errors: 0, deadLettered: 0, statuses: {} },
    latency: { buckets: new Array<number>(bucketCount).fill(0), sum: 0, count: 0 },
    activity: emptyActivity(),
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

/** Stores some meta fields (call inside the same transaction as the row changes they go with). */
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

/** Deep copy of the meta, so a failed transaction leaves the in-memory copy untouched. */
export function copyMeta(meta: QueueMeta): QueueMeta {
  return JSON.parse(JSON.stringify(meta)) as QueueMeta;
}

/** The meta fields whose value differs between two copies. */
export function changedFields(before: QueueMeta, after: QueueMeta): Partial<QueueMeta> {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(value) !== JSON.stringify(before[key as keyof QueueMeta])) {
      changed[key] = value;
    }
  }
  return changed as Partial<QueueMeta>;
}

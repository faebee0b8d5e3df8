// What `EndpointQueue.enqueue` takes and commits: a structural check of the RPC input (ingest has
// parsed and validated every event once, so nothing is validated again here), and the rows it
// adds, deduplicated by event id, inside the caller's transaction.
import type { Event } from "../../src/event/schema.ts";
import { QueueInputError } from "./admin.ts";

/** How long an event id is remembered for deduplication (at least 24 h, as promised); older ids
 * are pruned in bounded batches (ids of events still queued are kept). */
export const DEDUP_RETENTION_MS = 24 * 3_600_000;
const PRUNE_ROWS = 1_000;

/**
 * One event as ingest hands it over: the fields the queue keys, partitions and lists by (its
 * columns), and its JSON text as the registry sent it (`eventTexts`), stored and delivered as is.
 */
export interface QueuedEvent {
  id: string;
  action: string;
  repository: string;
  text: string;
}

/**
 * The input of `EndpointQueue.enqueue`: events of one envelope (already filtered for this
 * endpoint), the media type they arrived with, and the queue's identity. An item may also be a
 * parsed `Event` (a caller without the received text): it is stored as its JSON value and
 * encoded at delivery, as rows stored before texts were kept.
 */
export interface EnqueueInput {
  endpoint: string;
  partition: number;
  mediaType: string;
  events: readonly (QueuedEvent | Event)[];
}

/** What an enqueue committed: new events queued, and events whose id was already accepted. */
export interface EnqueueResult {
  queued: number;
  duplicates: number;
}

/** The columns of one row to insert. */
interface NewRow {
  id: string;
  action: string;
  repository: string;
  body: string;
  raw: 0 | 1;
}

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `object[key]` when it is a non-empty string; else a QueueInputError naming `path.key`. */
function text(object: Fields, key: string, path: string): string {
  const value = object[key];
  if (typeof value !== "string" || value === "") {
    throw new QueueInputError(`${path}.${key}`, "must be a non-empty string");
  }
  return value;
}

/** The row of one input item: a queued event's text as is, a parsed event's JSON value. */
function rowOf(item: unknown, path: string): NewRow {
  if (!isFields(item)) throw new QueueInputError(path, "must be an event");
  if (!("target" in item)) {
    const body = text(item, "text", path);
    // Cheap: ingest sliced it from a body it parsed, from the event's `{` to its `}`.
    if (body.charCodeAt(0) !== 0x7b || body.charCodeAt(body.length - 1) !== 0x7d) {
      throw new QueueInputError(`${path}.text`, "must be the event's JSON object text");
    }
    const [id, action, repository] = ["id", "action", "repository"].map((k) => text(item, k, path));
    return { id, action, repository, body, raw: 1 } as NewRow;
  }
  const target = item.target;
  if (!isFields(target)) throw new QueueInputError(`${path}.target`, "must be an object");
  return {
    id: text(item, "id", path),
    action: text(item, "action", path),
    repository: text(target, "repository", `${path}.target`),
    body: JSON.stringify(item),
    raw: 0,
  };
}

/** Checks an enqueue input's shape and turns its events into rows (texts are kept as given). */
export function checkEnqueueInput(input: unknown): {
  endpoint: string;
  partition: number;
  mediaType: string;
  rows: NewRow[];
} {
  if (!isFields(input)) throw new QueueInputError("input", "must be an object");
  const { endpoint, partition, mediaType, events } = input;
  if (typeof endpoint !== "string" || endpoint === "") {
    throw new QueueInputError("endpoint", "must be a non-empty string");
  }
  if (typeof partition !== "number" || !Number.isInteger(partition)) {
    throw new QueueInputError("partition", "must be an integer");
  }
  if (partition < 0) throw new QueueInputError("partition", "must be >= 0");
  if (typeof mediaType !== "string" || mediaType === "") {
    throw new QueueInputError("mediaType", "must be a non-empty string");
  }
  if (!Array.isArray(events)) throw new QueueInputError("events", "must be a list of events");
  const rows = events.map((item, index) => rowOf(item, `events[${index}]`));
  return { endpoint, partition, mediaType, rows };
}

/**
 * Inserts the rows whose id this queue has not accepted before (the others are duplicates), due
 * now. Run it inside a transaction.
 */
export function commitEvents(
  sql: SqlStorage,
  rows: readonly NewRow[],
  mediaType: string,
  now: number,
): EnqueueResult {
  let queued = 0;
  for (const row of rows) {
    const fresh = sql
      .exec(
        "INSERT INTO seen (id, accepted_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
        row.id,
        now,
      )
      .toArray();
    if (fresh.length === 0) continue;
    sql.exec(
      `INSERT INTO events (id, action, repository, media_type, body, raw, accepted_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.action,
      row.repository,
      mediaType,
      row.body,
      row.raw,
      now,
      now,
    );
    queued++;
  }
  return { queued, duplicates: rows.length - queued };
}

/** Forgets dedup ids older than the retention, a bounded number per call (run in a transaction). */
export function pruneSeen(sql: SqlStorage, now: number): void {
  sql.exec(
    `DELETE FROM seen WHERE id IN (
       SELECT id FROM seen WHERE accepted_at < ? AND id NOT IN (SELECT id FROM events) LIMIT ?)`,
    now - DEDUP_RETENTION_MS,
    PRUNE_ROWS,
  );
}

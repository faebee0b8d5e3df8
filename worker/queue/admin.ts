// The EndpointQueue's admin queries (list, replay, purge) and the checks of their inputs. Each
// takes the object's SqlStorage; the caller runs the writes inside one transaction.
import type { QueueItem } from "../admin-api.ts";
import type { EventRow } from "./store.ts";

/** SQLite in Durable Objects binds at most 100 parameters per statement; stay well below. */
const MAX_BOUND_PARAMETERS = 90;

/**
 * A row as `list` reads it: the `events` columns the admin view needs (never the body) and the
 * target's `tag`, `digest` and `mediaType` taken from the stored event JSON by SQLite (the text
 * as received, or the JSON value of an older row: either is the event's JSON), so rows stored
 * before these fields were shown have them too and no migration is needed.
 */
type ListedRow = Pick<
  EventRow,
  | "seq"
  | "id"
  | "action"
  | "repository"
  | "accepted_at"
  | "attempts"
  | "next_attempt_at"
  | "last_status"
  | "last_error"
  | "state"
  | "dead_at"
  | "reason"
> & { tag: SqlStorageValue; digest: SqlStorageValue; target_media_type: SqlStorageValue };

/** The select list that yields a {@link ListedRow}. */
const listedColumns = `seq, id, action, repository, accepted_at, attempts, next_attempt_at,
  last_status, last_error, state, dead_at, reason,
  json_extract(body, '$.target.tag') AS tag,
  json_extract(body, '$.target.digest') AS digest,
  json_extract(body, '$.target.mediaType') AS target_media_type`;

/** A stored JSON value when it is a non-empty string (validated events only hold strings). */
const textOf = (value: SqlStorageValue): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** The admin view of a row. */
function toItem(row: ListedRow): QueueItem {
  const tag = textOf(row.tag);
  const digest = textOf(row.digest);
  const mediaType = textOf(row.target_media_type);
  return {
    id: row.id,
    seq: row.seq,
    action: row.action,
    repository: row.repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
    ...(mediaType !== undefined && { mediaType }),
    acceptedAt: row.accepted_at,
    attempts: row.attempts,
    nextAttemptAt: row.state === "pending" ? row.next_attempt_at : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    ...(row.dead_at !== null && { deadAt: row.dead_at }),
    ...(row.reason !== null && { reason: row.reason }),
  };
}

/** The input of `EndpointQueue.list`. `cursor` is the `nextCursor` of the previous page. */
export interface ListInput {
  state: "pending" | "dead";
  cursor?: string;
  limit?: number;
}

/** A page of events; `nextCursor` is `null` on the last page. */
export interface ListResult {
  items: QueueItem[];
  nextCursor: string | null;
}

/** Page size of `list` when no `limit` is given. */
const DEFAULT_PAGE_SIZE = 50;

/** Largest `limit` of `list`. */
const MAX_PAGE_SIZE = 500;

/** Thrown for a malformed admin or enqueue input; `field` names the offending field. */
export class QueueInputError extends TypeError {
  override readonly name = "QueueInputError";
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
  }
}

/** Validates a `list` input and returns the state, the seq to start after and the page size. */
export function checkListInput(input: unknown): {
  state: "pending" | "dead";
  after: number;
  limit: number;
} {
  const { state, cursor, limit } = (input ?? {}) as Partial<Record<keyof ListInput, unknown>>;
  if (state !== "pending" && state !== "dead") {
    throw new QueueInputError("state", 'must be "pending" or "dead"');
  }
  let after = 0;
  if (cursor !== undefined && cursor !== null && cursor !== "") {
    if (typeof cursor !== "string" || !/^\d{1,15}$/.test(cursor)) {
      throw new QueueInputError("cursor", "must be the nextCursor of a previous page");
    }
    after = Number(cursor);
  }
  let size = DEFAULT_PAGE_SIZE;
  if (limit !== undefined && limit !== null) {
    if (
      typeof limit !== "number" ||
      !Number.isInteger(limit) ||
      limit < 1 ||
      limit > MAX_PAGE_SIZE
    ) {
      throw new QueueInputError("limit", `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    size = limit;
  }
  return { state, after, limit: size };
}

/** One page of events in FIFO (seq) order. */
export function listPage(
  sql: SqlStorage,
  page: { state: "pending" | "dead"; after: number; limit: number },
): ListResult {
  const rows = sql
    .exec<ListedRow>(
      `SELECT ${listedColumns} FROM events WHERE state = ? AND seq > ? ORDER BY seq LIMIT ?`,
      page.state,
      page.after,
      page.limit + 1,
    )
    .toArray();
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit).map(toItem);
  return { items, nextCursor: more ? String(items.at(-1)?.seq) : null };
}

/** Validates `replay` ids: `undefined` means every dead letter, else a list of event ids. */
export function checkReplayIds(input: unknown): string[] | undefined {
  const ids = (input as { ids?: unknown } | undefined)?.ids;
  if (ids === undefined || ids === null) return undefined;
  if (!Array.isArray(ids)) throw new QueueInputError("ids", "must be a list of event ids");
  ids.forEach((id, index) => {
    if (typeof id !== "string" || id === "") {
      throw new QueueInputError(`ids[${index}]`, "must be a non-empty string");
    }
  });
  return ids as string[];
}

/** Splits a list into chunks that fit the bound-parameter limit. */
export function chunks<T>(items: readonly T[], size = MAX_BOUND_PARAMETERS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const placeholders = (n: number) => new Array<string>(n).fill("?").join(", ");

/**
 * Moves dead letters (all, or those with the given ids) back to the FIFO tail as fresh pending
 * rows, in their original order, with attempts and errors reset; returns how many moved. Run it
 * inside a transaction.
 */
export function replayDead(sql: SqlStorage, ids: string[] | undefined, now: number): number {
  let seqs: number[];
  if (ids === undefined) {
    seqs = sql
      .exec<{ seq: number }>("SELECT seq FROM events WHERE state = 'dead' ORDER BY seq")
      .toArray()
      .map((row) => row.seq);
  } else {
    const found = new Set<number>();
    for (const part of chunks([...new Set(ids)])) {
      const rows = sql.exec<{ seq: number }>(
        `SELECT seq FROM events WHERE state = 'dead' AND id IN (${placeholders(part.length)})`,
        ...part,
      );
      for (const row of rows) found.add(row.seq);
    }
    seqs = [...found].sort((a, b) => a - b);
  }
  // Chunks in seq order, each inserted in seq order: the tail keeps the original order.
  for (const part of chunks(seqs, MAX_BOUND_PARAMETERS - 1)) {
    const list = placeholders(part.length);
    sql.exec(
      `INSERT INTO events (id, action, repository, media_type, body, raw, accepted_at, attempts, next_attempt_at, state)
       SELECT id, action, repository, media_type, body, raw, accepted_at, 0, ?, 'pending'
       FROM events WHERE seq IN (${list}) ORDER BY seq`,
      now,
      ...part,
    );
    sql.exec(`DELETE FROM events WHERE seq IN (${list})`, ...part);
  }
  return seqs.length;
}

/** Deletes every dead letter; returns how many. Pending events are never touched. */
export function purgeDead(sql: SqlStorage): number {
  const { n } = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE state = 'dead'")
    .one();
  sql.exec("DELETE FROM events WHERE state = 'dead'");
  return n;
}

// The admin API (bearer RELAY_ADMIN_TOKEN): endpoint state, paged queue contents, dead-letter
// replay and purge, pause and resume, and GET /metrics. Each action fans out to every partition
// of the endpoint. Responses show configuration redacted: header names only, never values or
// secrets, and no credentials from the URL. Every body is a type of ../admin-api.ts, which the
// browser console imports too; errors are thrown as HTTPExceptions for the app's one onError.
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BodyTooLargeError, readBodyLimited } from "../../src/hono/body.ts";
import { type ErrorIssue, type ErrorResponseInit, errorResponse } from "../../src/hono/errors.ts";
import { redactUrl } from "../../src/sinks/http.ts";
import { defaultMaxAgeMs } from "../../src/sinks/retry-policy.ts";
import type {
  EndpointConfigView,
  EndpointList,
  EndpointView,
  EventPage,
  PurgeResult,
  QueueState,
  ReplayResult,
  StateResult,
} from "../admin-api.ts";
import type { RelayEndpoint } from "../env.ts";
import { checkListInput, QueueInputError } from "../queue/admin.ts";
import { MAX_PAUSE_REASON_LENGTH as maxPauseReason } from "../queue/endpoint-queue.ts";
import { partitionsOf, queueStub, snapshotOf } from "../queue/snapshot.ts";
import { adminAccess } from "./admin-access.ts";
import type { AppEnv } from "./ingest.ts";
import { prometheusContentType, renderPrometheus } from "./metrics.ts";

const maxAdminBodyBytes = 64 * 1024;
const defaultPageSize = 50;
const maxPageSize = 500;
const maxReplayIds = 1000;

type AdminContext = Context<AppEnv>;

/** A JSON error to end the request with: the app's onError answers its response. */
function fail(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  init?: ErrorResponseInit,
): HTTPException {
  return new HTTPException(status, { res: errorResponse(status, code, message, init) });
}

/** An endpoint's configuration as the admin API shows it (see {@link EndpointConfigView}). */
function redactEndpoint(endpoint: RelayEndpoint): EndpointConfigView {
  return {
    name: endpoint.name,
    url: redactUrl(endpoint.url),
    disabled: endpoint.disabled,
    headers: Object.keys(endpoint.headers),
    signed: (endpoint.secret?.length ?? 0) > 0,
    timeout: endpoint.timeout,
    threshold: endpoint.threshold,
    backoff: endpoint.backoff,
    strategy: endpoint.strategy,
    ignore: { mediatypes: endpoint.ignore.mediatypes, actions: endpoint.ignore.actions },
    // The limits in effect (null: unlimited), not the raw keys: an unset maxAge is 3 days.
    maxAttempts: endpoint.maxAttempts || null,
    maxAge: endpoint.maxAge === undefined ? defaultMaxAgeMs : endpoint.maxAge || null,
    maxBatch: endpoint.maxBatch,
    partitions: endpoint.partitions,
    mediaType: endpoint.mediaType,
    format: endpoint.format,
    // parseEndpointConfig keeps the lists that are set, and no `match` without one.
    match: endpoint.match ?? null,
  };
}

/**
 * The field and reason of a QueueInputError, also after it crossed the RPC boundary: workerd
 * then delivers a plain Error whose message is "QueueInputError: <field>: <reason>".
 */
function queueInputFault(error: unknown): ErrorIssue | undefined {
  if (error instanceof QueueInputError) {
    return { path: error.field, message: error.message.slice(error.field.length + 2) };
  }
  if (!(error instanceof Error)) return undefined;
  const match = /^QueueInputError: ([^:]+): (.*)$/s.exec(error.message);
  return match ? { path: match[1] as string, message: match[2] as string } : undefined;
}

/**
 * Runs Durable Object calls; a failure becomes 503 (logged without details of the config),
 * except an input the queue refused, which is the caller's fault: 400 naming the field.
 */
async function onQueues<T>(what: string, calls: () => Promise<T>): Promise<T> {
  try {
    return await calls();
  } catch (error) {
    const fault = queueInputFault(error);
    if (fault) {
      throw fail(400, "invalid_input", `the input is not valid: ${fault.path}`, {
        issues: [fault],
      });
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`admin: ${what} failed: ${reason}`);
    throw fail(503, "queue_unavailable", `${what} failed; try again`, {
      headers: { "retry-after": "1" },
    });
  }
}

/** The endpoint named in the path, or 404. */
function endpointOf(c: AdminContext): RelayEndpoint {
  const name = c.req.param("name");
  const endpoint = c.get("config").endpoints.find((candidate) => candidate.name === name);
  if (!endpoint) {
    throw fail(404, "unknown_endpoint", `no endpoint is named ${JSON.stringify(name)}`);
  }
  return endpoint;
}

/**
 * An optional JSON object body (empty body = `{}`), read with the core's readBodyLimited rather
 * than Hono's bodyLimit: bodyLimit stops reading mid-body, which under wrangler dev breaks the
 * next request on the keep-alive connection. readBodyLimited refuses by Content-Length unread and
 * otherwise drains an oversized body (up to 8× the limit) without cancelling it.
 */
async function jsonBody(c: AdminContext): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyLimited(c.req.raw, maxAdminBodyBytes, {
      drainBytes: 8 * maxAdminBodyBytes,
    });
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw fail(413, "payload_too_large", `the body must be at most ${maxAdminBodyBytes} bytes`);
  }
  const text = new TextDecoder().decode(bytes).trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail(400, "invalid_json", "the body is not valid JSON", {
      issues: [{ path: "", message: "is not valid JSON" }],
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(400, "invalid_body", "the body must be a JSON object", {
      issues: [{ path: "", message: "must be a JSON object" }],
    });
  }
  return value as Record<string, unknown>;
}

const invalidBody = (path: string, message: string) =>
  fail(400, "invalid_body", "the body is not valid", { issues: [{ path, message }] });

interface PageCursor {
  partition: number;
  cursor: string | null;
}

const encodeCursor = (cursor: PageCursor): string =>
  btoa(JSON.stringify([cursor.partition, cursor.cursor]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

// The cursor is checked whole here, the partition's own cursor with the queue's rule, so a
// forged one is a 400 before any Durable Object is called.
function decodeCursor(text: string, partitions: number): PageCursor {
  const invalid = () =>
    fail(400, "invalid_query", "the cursor is not valid", {
      issues: [{ path: "cursor", message: "must be a nextCursor returned by this API" }],
    });
  let value: unknown;
  try {
    value = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [partition, cursor] = value as unknown[];
  if (
    !Number.isInteger(partition) ||
    (partition as number) < 0 ||
    (partition as number) >= partitions
  ) {
    throw invalid();
  }
  if (cursor !== null && (typeof cursor !== "string" || cursor === "")) throw invalid();
  try {
    if (cursor !== null) checkListInput({ state: "pending", cursor });
  } catch (error) {
    if (error instanceof QueueInputError) throw invalid();
    throw error;
  }
  return { partition: partition as number, cursor };
}

function pageQuery(c: AdminContext, partitions: number) {
  const issues: ErrorIssue[] = [];
  const state = c.req.query("state") ?? "pending";
  if (state !== "pending" && state !== "dead") {
    issues.push({ path: "state", message: 'must be "pending" or "dead"' });
  }
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? defaultPageSize : Number(limitText);
  if (
    !/^\d+$/.test(limitText ?? "1") ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > maxPageSize
  ) {
    issues.push({ path: "limit", message: `must be an integer from 1 to ${maxPageSize}` });
  }
  if (issues.length > 0) throw fail(400, "invalid_query", "the query is not valid", { issues });
  const cursorText = c.req.query("cursor");
  const start = cursorText ? decodeCursor(cursorText, partitions) : { partition: 0, cursor: null };
  return { state: state as QueueState, limit, start };
}

async function describe(c: AdminContext, endpoint: RelayEndpoint): Promise<EndpointView> {
  const snapshot = await onQueues(`status of ${endpoint.name}`, () => snapshotOf(c.env, endpoint));
  return { ...snapshot, config: redactEndpoint(endpoint) };
}

/**
 * The admin routes, mounted at the root by the app: `GET /v1/endpoints`, `GET /v1/endpoints/:name`,
 * `GET /v1/endpoints/:name/events?state=pending|dead&cursor=&limit=`,
 * `POST /v1/endpoints/:name/dead-letters/replay` (`{}` or `{"ids":[...]}`),
 * `DELETE /v1/endpoints/:name/dead-letters`, `POST /v1/endpoints/:name/pause` (optional
 * `{"reason"}`), `POST /v1/endpoints/:name/resume`, and `GET /metrics` (Prometheus text).
 */
export const adminApi = new Hono<AppEnv>();

for (const path of ["/v1/endpoints/*", "/metrics"]) {
  adminApi.use(path, ...adminAccess);
}

adminApi.get("/v1/endpoints", async (c) => {
  const { endpoints } = c.get("config");
  const views = await Promise.all(endpoints.map((endpoint) => describe(c, endpoint)));
  return c.json({ endpoints: views } satisfies EndpointList);
});

adminApi.get("/v1/endpoints/:name", async (c) => c.json(await describe(c, endpointOf(c))));

adminApi.get("/v1/endpoints/:name/events", async (c) => {
  const endpoint = endpointOf(c);
  const { state, limit, start } = pageQuery(c, endpoint.partitions);
  const items: EventPage["items"] = [];
  let next: PageCursor | null = null;
  await onQueues(`listing ${endpoint.name}`, async () => {
    let partition = start.partition;
    let cursor: string | null = start.cursor;
    // Bounded even if a queue kept answering empty pages with a cursor.
    for (
      let calls = 0;
      partition < endpoint.partitions && calls < endpoint.partitions + limit;
      calls++
    ) {
      const page = await queueStub(c.env, endpoint.name, partition).list({
        state,
        limit: limit - items.length,
        ...(cursor === null ? {} : { cursor }),
      });
      for (const item of page.items) items.push({ ...item, partition });
      if (page.nextCursor !== null) {
        cursor = page.nextCursor;
      } else {
        partition += 1;
        cursor = null;
      }
      if (items.length >= limit) break;
    }
    if (partition < endpoint.partitions) next = { partition, cursor };
  });
  const nextCursor = next === null ? null : encodeCursor(next);
  return c.json({ endpoint: endpoint.name, state, items, nextCursor } satisfies EventPage);
});

adminApi.post("/v1/endpoints/:name/dead-letters/replay", async (c) => {
  const endpoint = endpointOf(c);
  const { ids } = await jsonBody(c);
  if (
    ids !== undefined &&
    (!Array.isArray(ids) ||
      ids.length > maxReplayIds ||
      ids.some((id) => typeof id !== "string" || id.length === 0))
  ) {
    throw invalidBody("ids", `must be a list of at most ${maxReplayIds} event ids (strings)`);
  }
  const input = ids === undefined ? {} : { ids: ids as string[] };
  const results = await onQueues(`replay for ${endpoint.name}`, () =>
    Promise.all(
      partitionsOf(endpoint).map((p) => queueStub(c.env, endpoint.name, p).replay(input)),
    ),
  );
  const replayed = results.reduce((total, result) => total + result.replayed, 0);
  return c.json({ endpoint: endpoint.name, replayed } satisfies ReplayResult);
});

adminApi.delete("/v1/endpoints/:name/dead-letters", async (c) => {
  const endpoint = endpointOf(c);
  const results = await onQueues(`purge for ${endpoint.name}`, () =>
    Promise.all(partitionsOf(endpoint).map((p) => queueStub(c.env, endpoint.name, p).purge())),
  );
  const purged = results.reduce((total, result) => total + result.purged, 0);
  return c.json({ endpoint: endpoint.name, purged } satisfies PurgeResult);
});

adminApi.post("/v1/endpoints/:name/pause", async (c) => {
  const endpoint = endpointOf(c);
  const { reason } = await jsonBody(c);
  if (reason !== undefined && (typeof reason !== "string" || reason.length > maxPauseReason)) {
    throw invalidBody("reason", `must be a string of at most ${maxPauseReason} characters`);
  }
  await onQueues(`pause of ${endpoint.name}`, () =>
    Promise.all(
      partitionsOf(endpoint).map((p) =>
        queueStub(c.env, endpoint.name, p).pause(reason as string | undefined),
      ),
    ),
  );
  return c.json({ endpoint: endpoint.name, state: "paused" } satisfies StateResult);
});

adminApi.post("/v1/endpoints/:name/resume", async (c) => {
  const endpoint = endpointOf(c);
  await onQueues(`resume of ${endpoint.name}`, () =>
    Promise.all(partitionsOf(endpoint).map((p) => queueStub(c.env, endpoint.name, p).resume())),
  );
  const state = endpoint.disabled ? "disabled" : "active";
  return c.json({ endpoint: endpoint.name, state } satisfies StateResult);
});

adminApi.get("/metrics", async (c) => {
  const { endpoints } = c.get("config");
  const snapshots = await onQueues("reading the queues", () =>
    Promise.all(endpoints.map((endpoint) => snapshotOf(c.env, endpoint))),
  );
  return c.body(renderPrometheus(snapshots), 200, { "content-type": prometheusContentType });
});

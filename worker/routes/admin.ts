// The admin API (bearer RELAY_ADMIN_TOKEN): endpoint state, paged queue contents, dead-letter
// replay and purge, pause and resume, and GET /metrics. Each action fans out to every partition
// of the endpoint. Responses show configuration redacted: header names only, never values or
// secrets, and no credentials from the URL.
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bearerToken, tokenMatcher } from "../../src/hono/auth.ts";
import { type ErrorIssue, errorResponse } from "../../src/hono/errors.ts";
import { BodyTooLargeError, readBodyLimited } from "../../src/hono/index.ts";
import { redactUrl } from "../../src/sinks/http.ts";
import { defaultMaxAgeMs } from "../../src/sinks/retry-policy.ts";
import { loadRelayConfig, type RelayConfig, type RelayEndpoint } from "../env.ts";
import { checkListInput, QueueInputError } from "../queue/admin.ts";
import { partitionsOf, queueStub, snapshotOf } from "../queue/snapshot.ts";
import { corsFor } from "./cors.ts";
import type { AppEnv } from "./ingest.ts";
import { prometheusContentType, renderPrometheus } from "./metrics.ts";

const realm = "registry-relay-admin";
const maxAdminBodyBytes = 64 * 1024;
const defaultPageSize = 50;
const maxPageSize = 500;
const maxReplayIds = 1000;
const maxPauseReason = 500;

/**
 * An endpoint's configuration as the admin API shows it: header names without values, whether
 * it signs (never the secret), and the URL with credentials and query values masked (the core's
 * `redactUrl`).
 *
 * @example
 * ```ts
 * import { redactEndpoint } from "./admin.ts";
 * redactEndpoint(endpoint).headers; // ["Authorization"]
 * ```
 */
export function redactEndpoint(endpoint: RelayEndpoint) {
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
  };
}

const matchers = new WeakMap<RelayConfig, (token: string) => Promise<boolean>>();

/**
 * Requires `Authorization: Bearer <RELAY_ADMIN_TOKEN>` (compared in constant time). Without a
 * configured admin token the admin API is closed (403).
 *
 * @example
 * ```ts
 * import { adminAuth } from "./admin.ts";
 * app.use("/metrics", adminAuth);
 * ```
 */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = loadRelayConfig(c.env);
  if (config.adminToken === undefined) {
    return errorResponse(
      403,
      "admin_disabled",
      "the admin API is disabled because RELAY_ADMIN_TOKEN is not set",
    );
  }
  let matches = matchers.get(config);
  if (!matches) {
    matches = tokenMatcher([config.adminToken]);
    matchers.set(config, matches);
  }
  const token = bearerToken(c.req.header("authorization"));
  if (token === undefined) {
    return errorResponse(401, "unauthorized", "an admin bearer token is required", {
      headers: { "www-authenticate": `Bearer realm="${realm}"` },
    });
  }
  if (!(await matches(token))) {
    return errorResponse(401, "unauthorized", "the admin bearer token is not valid", {
      headers: { "www-authenticate": `Bearer realm="${realm}", error="invalid_token"` },
    });
  }
  await next();
};

const adminCors = corsFor<AppEnv>((c) => loadRelayConfig(c.env).corsOrigins);

/**
 * A handler answering 405 JSON with `Allow`, for a path's unsupported methods.
 *
 * @example
 * ```ts
 * import { methodNotAllowed } from "./admin.ts";
 * app.all("/healthz", methodNotAllowed("GET"));
 * ```
 */
export function methodNotAllowed(...allowed: string[]): MiddlewareHandler {
  const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : [])].join(", ");
  return async (c) =>
    errorResponse(405, "method_not_allowed", `${c.req.method} is not allowed here; use ${allow}`, {
      headers: { allow },
    });
}

class BadRequest extends Error {
  readonly code: string;
  readonly issues: ErrorIssue[];
  constructor(code: string, message: string, issues: ErrorIssue[] = []) {
    super(message);
    this.code = code;
    this.issues = issues;
  }
}

class QueueUnavailable extends Error {}

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
    if (fault)
      throw new BadRequest("invalid_input", `the input is not valid: ${fault.path}`, [fault]);
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`admin: ${what} failed: ${reason}`);
    throw new QueueUnavailable(what);
  }
}

function endpointNamed(c: Context<AppEnv>): RelayEndpoint | undefined {
  const name = c.req.param("name");
  return loadRelayConfig(c.env).endpoints.find((endpoint) => endpoint.name === name);
}

function unknownEndpoint(c: Context<AppEnv>): Response {
  return errorResponse(
    404,
    "unknown_endpoint",
    `no endpoint is named ${JSON.stringify(c.req.param("name"))}`,
  );
}

/**
 * An optional JSON object body (empty body = `{}`). An oversized body without Content-Length is
 * drained up to 8× the limit rather than left half-read (see readBodyLimited); Hono's bodyLimit
 * stops reading mid-body, which breaks the next request on the connection under wrangler dev.
 */
async function jsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyLimited(c.req.raw, maxAdminBodyBytes, {
      drainBytes: 8 * maxAdminBodyBytes,
    });
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw new BadRequest(
      "payload_too_large",
      `the body must be at most ${maxAdminBodyBytes} bytes`,
    );
  }
  const text = new TextDecoder().decode(bytes).trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequest("invalid_json", "the body is not valid JSON", [
      { path: "", message: "is not valid JSON" },
    ]);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequest("invalid_body", "the body must be a JSON object", [
      { path: "", message: "must be a JSON object" },
    ]);
  }
  return value as Record<string, unknown>;
}

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
  const invalid = new BadRequest("invalid_query", "the cursor is not valid", [
    { path: "cursor", message: "must be a nextCursor returned by this API" },
  ]);
  let value: unknown;
  try {
    value = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid;
  const [partition, cursor] = value as unknown[];
  if (
    !Number.isInteger(partition) ||
    (partition as number) < 0 ||
    (partition as number) >= partitions
  ) {
    throw invalid;
  }
  if (cursor !== null && (typeof cursor !== "string" || cursor === "")) throw invalid;
  try {
    if (cursor !== null) checkListInput({ state: "pending", cursor });
  } catch (error) {
    if (error instanceof QueueInputError) throw invalid;
    throw error;
  }
  return { partition: partition as number, cursor };
}

function pageQuery(c: Context<AppEnv>, partitions: number) {
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
  if (issues.length > 0) throw new BadRequest("invalid_query", "the query is not valid", issues);
  const cursorText = c.req.query("cursor");
  const start = cursorText ? decodeCursor(cursorText, partitions) : { partition: 0, cursor: null };
  return { state: state as "pending" | "dead", limit, start };
}

/**
 * The admin routes under `/v1/endpoints` (mount with `app.route("/v1/endpoints", endpointsApi)`):
 * `GET /`, `GET /:name`, `GET /:name/events?state=pending|dead&cursor=&limit=`,
 * `POST /:name/dead-letters/replay` (`{}` or `{"ids":[...]}`), `DELETE /:name/dead-letters`,
 * `POST /:name/pause` (optional `{"reason"}`) and `POST /:name/resume`.
 *
 * @example
 * ```ts
 * import { endpointsApi } from "./admin.ts";
 * app.route("/v1/endpoints", endpointsApi);
 * ```
 */
export const endpointsApi = new Hono<AppEnv>();

endpointsApi.use("*", adminCors, adminAuth);

endpointsApi.onError((error) => {
  if (error instanceof BadRequest) {
    const status = error.code === "payload_too_large" ? 413 : 400;
    return errorResponse(status, error.code, error.message, { issues: error.issues });
  }
  if (error instanceof QueueUnavailable) {
    return errorResponse(503, "queue_unavailable", `${error.message} failed; try again`, {
      headers: { "retry-after": "1" },
    });
  }
  throw error;
});

async function describe(c: Context<AppEnv>, endpoint: RelayEndpoint) {
  const snapshot = await onQueues(`status of ${endpoint.name}`, () => snapshotOf(c.env, endpoint));
  return { ...snapshot, config: redactEndpoint(endpoint) };
}

endpointsApi.get("/", async (c) => {
  const { endpoints } = loadRelayConfig(c.env);
  return c.json({
    endpoints: await Promise.all(endpoints.map((endpoint) => describe(c, endpoint))),
  });
});
endpointsApi.all("/", methodNotAllowed("GET"));

endpointsApi.get("/:name", async (c) => {
  const endpoint = endpointNamed(c);
  if (!endpoint) return unknownEndpoint(c);
  return c.json(await describe(c, endpoint));
});
endpointsApi.all("/:name", methodNotAllowed("GET"));

endpointsApi.get("/:name/events", async (c) => {
  const endpoint = endpointNamed(c);
  if (!endpoint) return unknownEndpoint(c);
  const { state, limit, start } = pageQuery(c, endpoint.partitions);
  const items: Record<string, unknown>[] = [];
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
  return c.json({ endpoint: endpoint.name, state, items, nextCursor });
});
endpointsApi.all("/:name/events", methodNotAllowed("GET"));

endpointsApi.post("/:name/dead-letters/replay", async (c) => {
  const endpoint = endpointNamed(c);
  if (!endpoint) return unknownEndpoint(c);
  const body = await jsonBody(c);
  const ids = body.ids;
  if (
    ids !== undefined &&
    (!Array.isArray(ids) ||
      ids.length > maxReplayIds ||
      ids.some((id) => typeof id !== "string" || id.length === 0))
  ) {
    throw new BadRequest("invalid_body", "the body is not valid", [
      { path: "ids", message: `must be a list of at most ${maxReplayIds} event ids (strings)` },
    ]);
  }
  const input = ids === undefined ? {} : { ids: ids as string[] };
  const results = await onQueues(`replay for ${endpoint.name}`, () =>
    Promise.all(
      partitionsOf(endpoint).map((p) => queueStub(c.env, endpoint.name, p).replay(input)),
    ),
  );
  const replayed = results.reduce((total, result) => total + result.replayed, 0);
  return c.json({ endpoint: endpoint.name, replayed });
});
endpointsApi.all("/:name/dead-letters/replay", methodNotAllowed("POST"));

endpointsApi.delete("/:name/dead-letters", async (c) => {
  const endpoint = endpointNamed(c);
  if (!endpoint) return unknownEndpoint(c);
  const results = await onQueues(`purge for ${endpoint.name}`, () =>
    Promise.all(partitionsOf(endpoint).map((p) => queueStub(c.env, endpoint.name, p).purge())),
  );
  const purged = results.reduce((total, result) => total + result.purged, 0);
  return c.json({ endpoint: endpoint.name, purged });
});
endpointsApi.all("/:name/dead-letters", methodNotAllowed("DELETE"));

endpointsApi.post("/:name/pause", async (c) => {
  const endpoint = endpointNamed(c);
  if (!endpoint) return unknownEndpoint(c);
  const { reason } = await jsonBody(c);
  if (reason !== undefined && (typeof reason !== "string" || reason.length > maxPauseReason)) {
    throw new BadRequest("invalid_body", "the body is not valid", [
      { path: "reason", message: `must be a string of at most ${maxPauseReason} characters` },
    ]);
  }
  await onQueues(`pause of ${endpoint.name}`, () =>
    Promise.all(
      partitionsOf(endpoint).map((p) =>
        queueStub(c.env, endpoint.name, p).pause(reason as string | undefined),
      ),
    ),
  );
  return c.json({ endpoint: endpoint.name, state: "paused" });
});
endpointsApi.all("/:name/pause", methodNotAllowed("POST"));

endpointsApi.post("/:name/resume", async (c) => {
  const endpoint = endpointNamed(c);
  if (!endpoint) return unknownEndpoint(c);
  await onQueues(`resume of ${endpoint.name}`, () =>
    Promise.all(partitionsOf(endpoint).map((p) => queueStub(c.env, endpoint.name, p).resume())),
  );
  return c.json({ endpoint: endpoint.name, state: endpoint.disabled ? "disabled" : "active" });
});
endpointsApi.all("/:name/resume", methodNotAllowed("POST"));

/**
 * `GET /metrics` (mount with `app.route("/metrics", metricsApi)`): Prometheus text for every
 * configured endpoint, admin-authenticated.
 *
 * @example
 * ```ts
 * import { metricsApi } from "./admin.ts";
 * app.route("/metrics", metricsApi);
 * ```
 */
export const metricsApi = new Hono<AppEnv>();

metricsApi.use("*", adminCors, adminAuth);

metricsApi.get("/", async (c) => {
  const { endpoints } = loadRelayConfig(c.env);
  let snapshots: Awaited<ReturnType<typeof snapshotOf>>[];
  try {
    snapshots = await Promise.all(endpoints.map((endpoint) => snapshotOf(c.env, endpoint)));
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`metrics: reading queue status failed: ${reason}`);
    return errorResponse(503, "queue_unavailable", "reading the queues failed; try again", {
      headers: { "retry-after": "1" },
    });
  }
  return c.body(renderPrometheus(snapshots), 200, { "content-type": prometheusContentType });
});
metricsApi.all("/", methodNotAllowed("GET"));

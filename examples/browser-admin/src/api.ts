// The relay's admin API from a browser: bearer token, JSON in and out, and errors that say what
// to do (a CORS refusal looks like a network error to a page, so it says so).

import { parseRetryAfter } from "registry-relay";
import type {
  EndpointList,
  EndpointView,
  ErrorBody,
  EventPage,
  PurgeResult,
  QueueState,
  ReplayResult,
  StateResult,
} from "../../../worker/admin-api.ts";

// The relay's own admin API types (the Worker answers with exactly these), not copies: a change
// to a response is a type error here.
export type {
  ActivityCounts,
  EndpointConfigView,
  EndpointView,
  LatencyCounts,
  PartitionSnapshot,
} from "../../../worker/admin-api.ts";

/** One event of `GET /v1/endpoints/:name/events`, with the partition it waits in. */
export type QueueItemView = EventPage["items"][number];

/**
 * A failed admin call. `status` is 0 when no HTTP answer could be read (network or CORS);
 * `retryAfterMs` comes from `Retry-After`.
 *
 * @example
 * ```ts
 * import { AdminApiError } from "./api.ts";
 * if (error instanceof AdminApiError && error.status === 401) askForTheToken();
 * ```
 */
export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;

  constructor(status: number, code: string, message: string, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** True when retrying cannot help until the operator changes the token or the config. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * Normalises what an operator typed as the relay's address: an http(s) origin plus optional
 * path prefix, without a trailing slash. Throws a message naming the field.
 *
 * @example
 * ```ts
 * import { normaliseRelayUrl } from "./api.ts";
 * normaliseRelayUrl("http://127.0.0.1:8787/"); // "http://127.0.0.1:8787"
 * ```
 */
export function normaliseRelayUrl(input: string): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError("Relay URL: enter an absolute URL such as http://127.0.0.1:8787");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError("Relay URL: must start with http:// or https://");
  }
  if (url.username || url.password) {
    throw new TypeError("Relay URL: must not contain credentials; use the admin token field");
  }
  if (url.search || url.hash) {
    throw new TypeError("Relay URL: must not contain a query or fragment");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

const requestTimeoutMs = 10_000;

/**
 * A client of the relay's admin API (`/v1/endpoints/...`). The token is sent as a bearer header,
 * never in a URL.
 *
 * @example
 * ```ts
 * import { AdminClient } from "./api.ts";
 * const client = new AdminClient("http://127.0.0.1:8787", token);
 * const endpoints = await client.endpoints();
 * ```
 */
export class AdminClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = normaliseRelayUrl(baseUrl);
    this.#token = token;
  }

  /** Every configured endpoint with its state. */
  async endpoints(signal?: AbortSignal): Promise<EndpointView[]> {
    const body = await this.#call<EndpointList>("GET", "", undefined, signal);
    return Array.isArray(body.endpoints) ? body.endpoints : [];
  }

  /** One page of an endpoint's pending or dead events. */
  async events(
    name: string,
    state: QueueState,
    options: { cursor?: string | null; limit?: number; signal?: AbortSignal } = {},
  ): Promise<Pick<EventPage, "items" | "nextCursor">> {
    const query = new URLSearchParams({ state, limit: String(options.limit ?? 100) });
    if (options.cursor) query.set("cursor", options.cursor);
    const path = `/${encodeURIComponent(name)}/events?${query}`;
    const body = await this.#call<EventPage>("GET", path, undefined, options.signal);
    return { items: Array.isArray(body.items) ? body.items : [], nextCursor: body.nextCursor };
  }

  /** Replays all dead letters of an endpoint, or only the given event ids. */
  async replay(name: string, ids?: readonly string[]): Promise<number> {
    const path = `/${encodeURIComponent(name)}/dead-letters/replay`;
    const body = await this.#call<ReplayResult>("POST", path, ids ? { ids } : {});
    return body.replayed;
  }

  /** Deletes every dead letter of an endpoint. */
  async purge(name: string): Promise<number> {
    const path = `/${encodeURIComponent(name)}/dead-letters`;
    const body = await this.#call<PurgeResult>("DELETE", path);
    return body.purged;
  }

  /** Stops delivery to an endpoint (events keep being accepted). */
  async pause(name: string, reason?: string): Promise<StateResult> {
    const path = `/${encodeURIComponent(name)}/pause`;
    return this.#call<StateResult>("POST", path, reason ? { reason } : {});
  }

  /** Restarts delivery to an endpoint. */
  async resume(name: string): Promise<StateResult> {
    return this.#call<StateResult>("POST", `/${encodeURIComponent(name)}/resume`, {});
  }

  async #call<T>(method: string, path: string, json?: unknown, signal?: AbortSignal): Promise<T> {
    const url = `${this.baseUrl}/v1/endpoints${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (json !== undefined) headers["content-type"] = "application/json";
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(json !== undefined && { body: JSON.stringify(json) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      if (timeout.aborted) {
        throw new AdminApiError(
          0,
          "timeout",
          `the relay did not answer within ${requestTimeoutMs / 1000} s`,
        );
      }
      throw new AdminApiError(
        0,
        "unreachable",
        `cannot reach ${this.baseUrl}: the relay is down, or it does not allow this page's origin ` +
          `(${location.origin}) in RELAY_CORS_ORIGINS`,
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      // Read defensively: a proxy in front of the relay may answer with anything.
      const error = (body as Partial<ErrorBody> | undefined)?.error as
        | { code?: unknown; message?: unknown }
        | undefined;
      const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
      const message =
        typeof error?.message === "string"
          ? error.message
          : `HTTP ${response.status} ${response.statusText}`.trim();
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      throw new AdminApiError(response.status, code, message, retryAfterMs);
    }
    if (body === undefined || typeof body !== "object" || body === null) {
      throw new AdminApiError(response.status, "bad_response", "the relay answered with non-JSON");
    }
    return body as T;
  }
}

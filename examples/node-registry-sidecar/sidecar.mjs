// The sidecar itself: an HTTP receiver on loopback for the registry's notifications and the
// core's sink chain to the relay, EventQueue (bounded) → RetryingSink → HttpSink. The registry
// gets its answer only once the events are in the queue, so its own in-memory queue (lost on a
// registry restart) stays empty. Files, timers and signals live in main.mjs.
import { createServer } from "node:http";
import {
  classifyDeliveryError,
  EndpointMetrics,
  EnvelopeError,
  EventQueue,
  EventsMediaType,
  EventsMediaTypeV2,
  ExponentialBackoff,
  HttpSink,
  HttpStatusError,
  parseEnvelope,
  QueueFullError,
  RetryingSink,
  SinkClosedError,
} from "registry-relay";
import { bearerToken, tokenMatcher } from "registry-relay/hono";

const envelopeTypes = new Set([EventsMediaType, EventsMediaTypeV2, "application/json"]);

/** Relay answers that mean "this envelope will never be accepted": dead-letter it. */
const finalStatuses = new Set([400, 413, 415, 422]);

/**
 * Which failed deliveries to give up on. Unlike the core's default, a 401, 403 or 404 from the
 * relay is retried: a wrong token or URL is a configuration mistake an operator fixes, and the
 * events must still be there when they do.
 *
 * @example
 * classifyRelayError(new HttpStatusError(401)); // "retry"
 * classifyRelayError(new HttpStatusError(400)); // "final"
 */
export function classifyRelayError(error) {
  if (error instanceof HttpStatusError) return finalStatuses.has(error.status) ? "final" : "retry";
  return classifyDeliveryError(error);
}

/**
 * A check of `Authorization: Bearer <token>` with the core's matcher (the relay's own): both
 * sides are hashed with SHA-256 first, then compared in constant time.
 */
function bearerChecker(expected) {
  if (typeof expected !== "string" || expected === "") {
    throw new TypeError("the sidecar token must be a non-empty string");
  }
  const matches = tokenMatcher([expected]);
  return async (header) => {
    const token = bearerToken(header);
    return token !== undefined && (await matches(token));
  };
}

/** A backoff wait that stops at once when the RetryingSink closes (shutdown). */
function abortableSleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

class BodyTooLarge extends Error {}

function readBody(req, limit) {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function refuse(res, status, code, message, { issues, headers } = {}) {
  send(res, status, { error: { code, message, ...(issues && { issues }) } }, headers);
}

/**
 * Builds the sidecar. Options: `token` (what the registry sends), `relayUrl`, `relayToken`,
 * `capacity`, `overflow` ("reject" | "drop-oldest"), `timeout`, `backoff`, `maxBackoff` (ms),
 * `maxBodyBytes`, `onDeadLetter(letter)` (async; must keep the events), `log(record)`.
 *
 * @example
 * const sidecar = createSidecar({ token, relayUrl, capacity: 10_000, overflow: "reject", log });
 * const url = await sidecar.listen(5001);
 * // … later, on SIGTERM:
 * const { undelivered } = await sidecar.shutdown(30_000);
 */
export function createSidecar(options) {
  const { relayUrl, relayToken, capacity, overflow, log } = options;
  const checkToken = bearerChecker(options.token);
  const metrics = new EndpointMetrics();
  const counts = { accepted: 0, refused: 0, queueFull: 0, unavailable: 0, deadLettered: 0 };
  /** Events the queue could not hand on (shutdown, or a failing dead-letter store): spooled. */
  const undelivered = [];
  /** Spooled events from the last run still waiting to fit into the queue. */
  let backlog = [];
  let backlogDone = () => {};
  let pumpTimer;
  let stopping = false;

  const http = new HttpSink(relayUrl, {
    headers: relayToken ? { Authorization: `Bearer ${relayToken}` } : {},
    timeout: options.timeout,
    metrics,
  });
  const retrying = new RetryingSink(
    http,
    new ExponentialBackoff({
      base: options.backoff,
      factor: options.backoff,
      max: options.maxBackoff,
    }),
    {
      classify: classifyRelayError,
      sleep: abortableSleep,
      onDeadLetter: async (letter) => {
        await options.onDeadLetter(letter);
        counts.deadLettered += letter.events.length;
      },
    },
  );
  const queue = new EventQueue(retrying, {
    capacity,
    overflow,
    onIngress: (events) => metrics.ingress(events.length),
    onEgress: (events) => metrics.egress(events.length),
    onDrop: (events) =>
      log({
        type: "dropped",
        reason: `queue full (capacity ${capacity}, overflow drop-oldest)`,
        ids: events.map((event) => event.id),
      }),
    onError: (error, events) => {
      undelivered.push(...events);
      if (!(error instanceof SinkClosedError)) {
        log({ type: "error", message: error?.message ?? String(error), kept: events.length });
      }
    },
  });

  /** Moves spooled events into the queue as room frees up, oldest first. */
  const pump = () => {
    pumpTimer = undefined;
    while (backlog.length > 0 && queue.pending < queue.capacity && !stopping) {
      const event = backlog.shift();
      queue.write(event).catch((error) => {
        undelivered.push(event);
        log({ type: "error", message: error?.message ?? String(error), kept: 1 });
      });
    }
    if (backlog.length === 0) backlogDone(true);
    else if (!stopping) pumpTimer = setTimeout(pump, 100);
  };

  async function handle(req, res) {
    const { pathname } = new URL(req.url ?? "/", "http://sidecar");
    if (req.method === "GET" && pathname === "/healthz") {
      return send(res, stopping ? 503 : 200, { status: stopping ? "stopping" : "ok" });
    }
    if (req.method === "GET" && pathname === "/metrics") return send(res, 200, snapshot());
    if (pathname !== "/events") {
      return refuse(res, 404, "not_found", `no route for ${req.method} ${pathname}`);
    }
    if (req.method !== "POST") {
      return refuse(res, 405, "method_not_allowed", "use POST", { headers: { allow: "POST" } });
    }
    if (!(await checkToken(req.headers.authorization))) {
      counts.refused++;
      return refuse(res, 401, "unauthorized", "a valid bearer token is required", {
        headers: { "www-authenticate": 'Bearer realm="registry-relay-sidecar"' },
      });
    }
    const mediaType = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (!envelopeTypes.has(mediaType)) {
      counts.refused++;
      return refuse(
        res,
        415,
        "unsupported_media_type",
        `Content-Type must be one of ${[...envelopeTypes].join(", ")}`,
      );
    }
    let envelope;
    try {
      envelope = parseEnvelope(await readBody(req, options.maxBodyBytes));
    } catch (error) {
      counts.refused++;
      if (error instanceof BodyTooLarge) {
        return refuse(res, 413, "payload_too_large", `the limit is ${options.maxBodyBytes} bytes`);
      }
      if (error instanceof EnvelopeError) {
        return refuse(res, 400, "invalid_envelope", "the body is not a notification envelope", {
          issues: error.issues,
        });
      }
      throw error;
    }
    // 503 keeps the events in the registry, which resends them (distribution retries forever).
    const busy = stopping ? "shutting_down" : backlog.length > 0 ? "restoring" : undefined;
    if (busy) {
      counts.unavailable++;
      return refuse(res, 503, busy, `the sidecar is ${busy.replace("_", " ")}; resend later`, {
        headers: { "retry-after": "1" },
      });
    }
    try {
      await queue.write(...envelope.events);
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      // Overflow policy "reject": the registry keeps the events and resends them.
      counts.queueFull++;
      return refuse(res, 503, "queue_full", error.message, { headers: { "retry-after": "1" } });
    }
    counts.accepted++;
    return send(res, 202, { accepted: envelope.events.length });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      log({ type: "error", message: error?.message ?? String(error) });
      if (!res.headersSent) refuse(res, 500, "internal_error", "the sidecar failed");
    });
  });

  /** One flat record for the metrics line and `GET /metrics` (no token, no header value). */
  function snapshot() {
    const { pending: _pending, ...relay } = metrics.snapshot();
    return {
      requests: {
        accepted: counts.accepted,
        refused: counts.refused,
        queueFull: counts.queueFull,
        unavailable: counts.unavailable,
      },
      queue: {
        pending: queue.pending,
        capacity,
        overflow,
        dropped: queue.dropped,
        backlog: backlog.length,
      },
      relay,
      deadLettered: counts.deadLettered,
      undelivered: undelivered.length,
    };
  }

  return {
    snapshot,

    /** Listens on 127.0.0.1 only; resolves with the events URL. */
    listen(port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve(`http://127.0.0.1:${server.address().port}/events`);
        });
      });
    },

    /**
     * Queues events spooled by an earlier run, before any new ones (the registry gets 503
     * `restoring` meanwhile, so order is kept). Resolves true once all are queued, false if a
     * shutdown came first (the rest is returned by `shutdown`).
     */
    restore(events) {
      backlog = [...events];
      const done = new Promise((resolve) => {
        backlogDone = resolve;
      });
      pump();
      return done;
    },

    /**
     * Stops taking notifications, then drains the queue for up to `drainMs`. Whatever is still
     * undelivered after that (the relay being down) is returned, in order, for the spool.
     */
    async shutdown(drainMs) {
      stopping = true;
      clearTimeout(pumpTimer);
      backlogDone(false);
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      const drained = queue.close();
      let timer;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve(true), drainMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        // Aborts the backoff wait; queued writes then fail fast into `undelivered`.
        await retrying.close();
        await drained;
      }
      server.closeAllConnections();
      await closed;
      return { drained: !timedOut, undelivered: [...undelivered, ...backlog] };
    },
  };
}

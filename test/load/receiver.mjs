// A recording webhook receiver for the load test, on 127.0.0.1: every POST is read in full, its
// event ids recorded in arrival order, then answered by a fault plan that depends only on the
// (event id, attempt number) pair: 200, 500, or a TCP reset after the body was read. Keep-alive
// stays on (a long keepAliveTimeout) so the relay reuses its connections as it would in production.
import { createServer } from "node:http";
import { prng } from "../support/prng.mjs";

/**
 * A 32-bit FNV-1a hash of a string's UTF-16 code units (ASCII here).
 * @param {string} text
 * @returns {number}
 */
export function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * The fault plan of a receiver that fails `rate` of its attempts: half of them 500, half a reset.
 * The choice is a pure function of (seed, event id, attempt number), so the test can predict
 * which events exhaust `maxAttempts`.
 * @param {number} seed
 * @param {number} rate
 * @returns {(id: string, attempt: number) => "ok" | "500" | "reset"}
 */
export function seededFaults(seed, rate) {
  return (id, attempt) => {
    const u = prng(fnv1a(`${seed}:${id}:${attempt}`))();
    if (u < rate / 2) return "500";
    if (u < rate) return "reset";
    return "ok";
  };
}

/**
 * @typedef {{ seq: number, at: number, ids: string[], body: string,
 *   outcome: "ok" | "500" | "reset" }} Arrival
 */

/**
 * Starts a receiver. `faults(id, attempt)` decides the answer from the first event id of the
 * POST and how many POSTs of that id arrived so far (1 = first); without it every POST gets 200.
 * @param {{ name: string, faults?: (id: string, attempt: number) => "ok" | "500" | "reset" }} options
 */
export async function startReceiver({ name, faults }) {
  /** @type {Arrival[]} */
  const arrivals = [];
  /** id → number of POSTs that carried it */
  const attempts = new Map();
  /** id → number of POSTs that carried it and were answered 2xx */
  const successes = new Map();
  const injected = { 500: 0, reset: 0 };
  let lastNewAt = 0;
  const sockets = new Set();
  let connections = 0;

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let ids = [];
      try {
        ids = (JSON.parse(body).events ?? []).map((event) => String(event.id));
      } catch {
        // not an envelope: answered 400 below, recorded with no ids
      }
      const at = performance.now();
      let outcome = "ok";
      for (const id of ids) {
        const attempt = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, attempt);
        if (attempt === 1) lastNewAt = at;
      }
      if (faults && ids.length > 0) outcome = faults(ids[0], attempts.get(ids[0]));
      arrivals.push({ seq: arrivals.length, at, ids, body, outcome });
      if (ids.length === 0) {
        res.writeHead(400).end();
        return;
      }
      if (outcome === "reset") {
        injected.reset++;
        // RST, not FIN: the relay's fetch fails with a transport error after the body was read.
        req.socket.resetAndDestroy();
        return;
      }
      if (outcome === "500") {
        injected["500"]++;
        res.writeHead(500, { "content-type": "text/plain" }).end("injected 500\n");
        return;
      }
      for (const id of ids) successes.set(id, (successes.get(id) ?? 0) + 1);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", done);
  });
  const { port } = server.address();

  return {
    name,
    url: `http://127.0.0.1:${port}/events`,
    arrivals,
    attempts,
    successes,
    injected,
    /** performance.now() of the last arrival of an id not seen before (0: none yet). */
    get lastNewAt() {
      return lastNewAt;
    },
    /** TCP connections the relay opened to this receiver. */
    get connections() {
      return connections;
    },
    /** Ids in the order of their first arrival. */
    firstArrivalOrder() {
      const seen = new Set();
      const order = [];
      for (const arrival of arrivals) {
        for (const id of arrival.ids) {
          if (seen.has(id)) continue;
          seen.add(id);
          order.push(id);
        }
      }
      return order;
    },
    close() {
      return new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      });
    },
  };
}

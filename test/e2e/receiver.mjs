// A webhook receiver for the e2e run: records every request (raw bytes and headers, in arrival
// order) and injects faults on demand: N error statuses, responses held past the sender's
// timeout, or the whole listener down (connection refused) and back up on the same port.
import { createServer } from "node:http";

const readBody = (req) =>
  new Promise((done, fail) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => done(Buffer.concat(chunks)));
    req.on("error", fail);
  });

/**
 * Starts a receiver on 127.0.0.1:`port` (0 = any free port).
 * `records[]` entries: `{ seq, at, path, method, headers (raw pairs), contentType, body: Buffer,
 * answered: status | "held" | "dropped" }`.
 */
export async function startReceiver({ port = 0, name = "receiver" } = {}) {
  const records = [];
  const sockets = new Set();
  const holds = new Set();
  let failNext = 0;
  let failUntil = 0;
  let failStatus = 500;
  let holdNext = 0;
  let holdMs = 0;
  let server = null;

  const handle = async (req, res) => {
    const body = await readBody(req).catch(() => null);
    if (body === null) return;
    const record = {
      seq: records.length,
      at: Date.now(),
      path: req.url,
      method: req.method,
      headers: req.rawHeaders,
      contentType: req.headers["content-type"] ?? null,
      body,
      answered: null,
    };
    records.push(record);
    if (failNext > 0 || Date.now() < failUntil) {
      if (failNext > 0) failNext--;
      record.answered = failStatus;
      res.writeHead(failStatus, { "content-type": "text/plain" });
      res.end(`injected ${failStatus}\n`);
      return;
    }
    if (holdNext > 0) {
      holdNext--;
      record.answered = "held";
      // Answer late (a sender with a shorter timeout has given up by then), or never if the
      // listener is stopped meanwhile.
      await new Promise((done) => {
        const hold = { timer: setTimeout(() => finish(), holdMs), done: () => finish(), res };
        const finish = () => {
          holds.delete(hold);
          done();
        };
        holds.add(hold);
      });
      if (!res.destroyed) {
        res.writeHead(200);
        res.end("late\n");
      }
      return;
    }
    record.answered = 200;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
  };

  const listen = (p) =>
    new Promise((done, fail) => {
      const s = createServer((req, res) => {
        handle(req, res).catch((error) => {
          res.destroy(error);
        });
      });
      s.keepAliveTimeout = 1000;
      s.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      s.once("error", fail);
      s.listen(p, "127.0.0.1", () => {
        server = s;
        done(s.address().port);
      });
    });

  const boundPort = await listen(port);
  const url = (path = "/") => `http://127.0.0.1:${boundPort}${path}`;

  return {
    name,
    port: boundPort,
    url,
    records,
    /** The next `count` requests are answered `status`. */
    failNext(count, status = 500) {
      failNext = count;
      failStatus = status;
    },
    /** Every request in the next `ms` is answered `status`. */
    failFor(ms, status = 500) {
      failUntil = Date.now() + ms;
      failStatus = status;
    },
    /** The next `count` requests are answered only after `ms` (or never, if stopped first). */
    holdNext(count, ms) {
      holdNext = count;
      holdMs = ms;
    },
    /** Held requests whose sender is still waiting (its connection is open). */
    get inFlight() {
      let open = 0;
      for (const h of holds) if (!h.res.destroyed && !h.res.socket?.destroyed) open++;
      return open;
    },
    /** Releases every held request at once (they are answered 200 if their socket still lives). */
    releaseHeld() {
      for (const h of [...holds]) {
        clearTimeout(h.timer);
        h.done();
      }
    },
    reset() {
      failNext = 0;
      failUntil = 0;
      holdNext = 0;
      this.releaseHeld();
    },
    get listening() {
      return server !== null;
    },
    /** Closes the listener and every connection: senders now get "connection refused". */
    async stop() {
      if (!server) return;
      const s = server;
      server = null;
      this.releaseHeld();
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => s.close(() => done()));
    },
    /** Listens again on the same port. */
    async start() {
      if (server) return;
      await listen(boundPort);
    },
  };
}

/** The header value `name` (case-insensitive) from a raw header list, or null. */
export function header(rawHeaders, name) {
  const lower = name.toLowerCase();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === lower) return rawHeaders[i + 1];
  }
  return null;
}

// The wire between the registry and the relay: a pass-through HTTP proxy that records exactly
// what the registry sent (bytes, headers) and what the relay answered, and can hold the relay's
// answer back past the registry's endpoint timeout, so the registry resends an event the relay
// has already accepted. No relay change is needed for that scenario.
import { createServer, request } from "node:http";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

const readBody = (stream) =>
  new Promise((done, fail) => {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => done(Buffer.concat(chunks)));
    stream.on("error", fail);
  });

/** The relay may compress its answer (the registry sends `Accept-Encoding: gzip`). */
function decode(body, encoding) {
  if (encoding === "gzip") return gunzipSync(body);
  if (encoding === "br") return brotliDecompressSync(body);
  if (encoding === "deflate") return inflateSync(body);
  return body;
}

/**
 * Starts the proxy on 127.0.0.1 (free port) in front of `http://127.0.0.1:<upstreamPort()>`.
 * `records[]`: `{ seq, at, path, headers (raw), body: Buffer, upstreamStatus, upstreamBody,
 * upstreamEncoding, upstreamError, delayedMs, answeredAt }` (upstreamBody decoded).
 */
export async function startProxy({ upstreamPort }) {
  const records = [];
  let delayNext = 0;
  let delayMs = 0;

  const forward = (req, body) =>
    new Promise((done) => {
      const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort()}` };
      const upstream = request(
        {
          host: "127.0.0.1",
          port: upstreamPort(),
          method: req.method,
          path: req.url,
          headers,
          timeout: 30_000,
        },
        async (res) => {
          const resBody = await readBody(res).catch(() => Buffer.alloc(0));
          done({ status: res.statusCode, headers: res.headers, body: resBody });
        },
      );
      upstream.on("timeout", () => upstream.destroy(new Error("upstream timeout")));
      upstream.on("error", (error) => done({ error: error.code ?? error.message }));
      upstream.end(body);
    });

  const server = createServer(async (req, res) => {
    const body = await readBody(req).catch(() => null);
    if (body === null) return;
    const record = {
      seq: records.length,
      at: Date.now(),
      path: req.url,
      headers: req.rawHeaders,
      body,
      upstreamStatus: null,
      upstreamBody: null,
      upstreamEncoding: null,
      upstreamError: null,
      delayedMs: 0,
      answeredAt: null,
    };
    records.push(record);
    // Hold decided on arrival, so "the next N requests" means the next N the registry sends.
    let hold = 0;
    if (delayNext > 0) {
      delayNext--;
      hold = delayMs;
    }
    const answer = await forward(req, body);
    if (answer.error) {
      // The relay is not there: behave like it (the registry sees a transport error).
      record.upstreamError = answer.error;
      record.answeredAt = Date.now();
      req.socket.destroy();
      return;
    }
    record.upstreamStatus = answer.status;
    record.upstreamEncoding = answer.headers["content-encoding"] ?? null;
    record.upstreamBody = decode(answer.body, record.upstreamEncoding).toString("utf8");
    if (hold > 0) {
      record.delayedMs = hold;
      await new Promise((done) => setTimeout(done, hold));
    }
    record.answeredAt = Date.now();
    if (res.destroyed || req.socket.destroyed) return;
    const {
      "content-length": _length,
      "transfer-encoding": _te,
      connection: _c,
      ...rest
    } = answer.headers;
    res.writeHead(answer.status, { ...rest, "content-length": answer.body.length });
    res.end(answer.body);
  });
  server.keepAliveTimeout = 1000;
  const sockets = new Set();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done(server.address().port));
  });
  return {
    port,
    records,
    /** The next `count` requests are forwarded at once, but answered only after `ms`. */
    delayNext(count, ms) {
      delayNext = count;
      delayMs = ms;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(() => done()));
    },
  };
}

// The delivery benchmark's receiver: a keep-alive Node http server on 127.0.0.1 that reads each
// POST body to the end, counts requests and bytes, and answers 200 with an empty body.
// `GET /stats` returns the counters as JSON. Run as a script (the default: a child process, so
// on a 2-core machine the server does not steal the sender's event loop) it prints
// `listening <port>` and exits when its stdin closes (the parent went away) or on SIGTERM.
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Starts the receiver on an ephemeral port of 127.0.0.1.
 * @returns {Promise<{ port: number, stats: () => { requests: number, bytes: number, methods: Record<string, number> }, close: () => Promise<void> }>}
 */
export function startReceiver() {
  const counters = { requests: 0, bytes: 0, methods: {} };
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/stats") {
      const body = JSON.stringify(counters);
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      res.end(body);
      return;
    }
    let bytes = 0;
    req.on("data", (chunk) => {
      bytes += chunk.length;
    });
    req.on("end", () => {
      counters.requests++;
      counters.bytes += bytes;
      counters.methods[req.method] = (counters.methods[req.method] ?? 0) + 1;
      res.writeHead(200, { "content-length": 0 });
      res.end();
    });
  });
  // Rounds follow each other closely, but a GC pause or a slow round must not close idle
  // connections under the sender (both sides would pay reconnects at random).
  server.keepAliveTimeout = 60_000;
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      done({
        port: typeof address === "object" && address ? address.port : 0,
        stats: () => structuredClone(counters),
        close: () =>
          new Promise((closed) => {
            server.closeAllConnections();
            server.close(() => closed());
          }),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const receiver = await startReceiver();
  const stop = () => receiver.close().then(() => process.exit(0));
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  process.stdout.write(`listening ${receiver.port}\n`);
}

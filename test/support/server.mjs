// The one local HTTP peer every core test runner talks to (Node, Deno, Bun, workerd, Chromium).
// It serves the shared fixtures byte for byte (runtimes without a file system fetch them) and
// plays receiver: fixed statuses, delays, dropped connections, flaky buckets and an inbox.
// Listens on 127.0.0.1 only, on a free port, and never keeps the process alive by itself.
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  distributionFixtureNames,
  distributionFixturesDir,
  registriesFixturesDir,
} from "../fixtures/paths.mjs";

export const fixturesDir = distributionFixturesDir;

const cors = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "*",
  "access-control-expose-headers": "*",
};

function send(res, status, body, headers = {}) {
  res.writeHead(status, { ...cors, ...headers });
  res.end(body);
}

/** Files under `dir`, as sorted `/`-separated paths relative to it (read on each call: cheap). */
async function filesUnder(dir, prefix = "") {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? filesUnder(dir, path) : entry.isFile() ? [path] : [];
    }),
  );
  return nested.flat().sort();
}

function readBody(req) {
  return new Promise((done, fail) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => done(Buffer.concat(chunks)));
    req.on("error", fail);
  });
}

/**
 * Starts the server. Routes:
 * - `GET /fixtures/index.json`: names of the fixture bodies (`*.json`, INDEX order).
 * - `GET /fixtures/<name>`: the raw bytes.
 * - `GET /registries/index.json`: every file under test/fixtures/registries (other registries'
 *   payloads, the standards' schemas and examples, the notes), as sorted `/`-separated paths.
 * - `GET /registries/<path>`: the raw bytes of one of them.
 * - `ANY /status?status=N[&delay=ms][&retryAfter=s]`: records the request into inbox "status",
 *   then answers N (default 200).
 * - `ANY /close`: destroys the socket without answering.
 * - `ANY /redirect/<status>[?to=<url or path>]`: answers `status` with `Location: <to>` (none
 *   without `to`).
 * - `POST /flaky/<bucket>?fail=N[&status=S]`: the first N requests of a bucket get S (500), later 200.
 * - `POST /inbox/<bucket>`: records {method, headers, body (utf-8)}; answers 200.
 * - `GET /inbox/<bucket>`: what was recorded; `DELETE /inbox/<bucket>` clears it.
 */
export async function startTestServer({ port = 0 } = {}) {
  const inboxes = new Map();
  const flaky = new Map();
  const names = distributionFixtureNames();
  /** @type {Promise<string[]> | undefined} */
  let registries;
  const record = async (bucket, req) => {
    const body = await readBody(req);
    const list = inboxes.get(bucket) ?? [];
    list.push({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: body.toString("utf8"),
    });
    inboxes.set(bucket, list);
  };
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://x");
      const parts = url.pathname.split("/").filter(Boolean);
      if (req.method === "OPTIONS") return send(res, 204, "");
      if (parts[0] === "fixtures") {
        if (parts[1] === "index.json") {
          return send(res, 200, JSON.stringify(names), { "content-type": "application/json" });
        }
        const name = parts[1] ?? "";
        if (!names.includes(name)) return send(res, 404, "no such fixture");
        return send(res, 200, await readFile(join(fixturesDir, name)), {
          "content-type": "application/octet-stream",
        });
      }
      if (parts[0] === "registries") {
        // Listed once per server, at the first request that needs the list.
        registries ??= filesUnder(registriesFixturesDir);
        const files = await registries;
        const path = parts.slice(1).map(decodeURIComponent).join("/");
        if (path === "index.json") {
          return send(res, 200, JSON.stringify(files), { "content-type": "application/json" });
        }
        // Only a listed file: never a path outside the folder.
        if (!files.includes(path)) return send(res, 404, "no such fixture");
        return send(res, 200, await readFile(join(registriesFixturesDir, path)), {
          "content-type": "application/octet-stream",
        });
      }
      if (parts[0] === "status") {
        await record("status", req);
        const delay = Number(url.searchParams.get("delay") ?? 0);
        if (delay > 0) await new Promise((r) => setTimeout(r, Math.min(delay, 10_000)));
        const status = Number(url.searchParams.get("status") ?? 200);
        const headers = {};
        if (url.searchParams.has("retryAfter"))
          headers["retry-after"] = url.searchParams.get("retryAfter");
        if (res.destroyed) return;
        return send(res, status, "", headers);
      }
      if (parts[0] === "redirect") {
        await readBody(req);
        const to = url.searchParams.get("to");
        return send(res, Number(parts[1] ?? 302), "", to === null ? {} : { location: to });
      }
      if (parts[0] === "close") {
        req.socket.destroy();
        return;
      }
      if (parts[0] === "flaky" && parts[1]) {
        await record(`flaky/${parts[1]}`, req);
        const seen = (flaky.get(parts[1]) ?? 0) + 1;
        flaky.set(parts[1], seen);
        const fail = Number(url.searchParams.get("fail") ?? 0);
        const status = Number(url.searchParams.get("status") ?? 500);
        return send(res, seen <= fail ? status : 200, "");
      }
      if (parts[0] === "inbox" && parts[1]) {
        const bucket = parts[1];
        if (req.method === "GET") {
          return send(res, 200, JSON.stringify(inboxes.get(bucket) ?? []), {
            "content-type": "application/json",
          });
        }
        if (req.method === "DELETE") {
          inboxes.delete(bucket);
          flaky.delete(bucket);
          return send(res, 204, "");
        }
        await record(bucket, req);
        return send(res, 200, "");
      }
      send(res, 404, "not found");
    } catch (err) {
      send(res, 500, String(err));
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  server.unref();
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { url } = await startTestServer({ port: Number(process.env.PORT ?? 0) });
  console.log(url);
  process.stdin.resume(); // keep running until the parent closes our stdin or kills us
  process.stdin.on("end", () => process.exit(0));
}

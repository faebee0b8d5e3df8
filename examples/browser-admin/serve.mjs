// `npm run admin`: builds the console and serves it on http://127.0.0.1:<ADMIN_PORT> (default
// 8790). A tiny static server: GET/HEAD of the built files only, loopback only, with a strict
// Content-Security-Policy. The relay must list this origin in RELAY_CORS_ORIGINS.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConsole, distDir, formatSizes } from "./build.mjs";

const host = "127.0.0.1";
const files = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/styles.css": ["styles.css", "text/css; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/app.js.map": ["app.js.map", "application/json; charset=utf-8"],
};
const securityHeaders = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/**
 * Serves the built console from `dir` on 127.0.0.1.
 * @param {{ port?: number, dir?: string }} [options] port 0 picks a free one
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function serveConsole({ port = 8790, dir = distDir } = {}) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const entry = files[path];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    if (!entry) {
      res.writeHead(404, { "content-type": "text/plain", ...securityHeaders });
      res.end("not found\n");
      return;
    }
    try {
      const body = await readFile(join(dir, entry[0]));
      res.writeHead(200, {
        "content-type": entry[1],
        "content-length": body.length,
        ...securityHeaders,
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`${entry[0]} is missing: run node examples/browser-admin/build.mjs\n`);
    }
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, host, done);
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = process.env.ADMIN_PORT ?? "8790";
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    console.error(`ADMIN_PORT must be a port number (0-65535), got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  const built = await buildConsole();
  console.log(formatSizes(built));
  let served;
  try {
    served = await serveConsole({ port });
  } catch (error) {
    console.error(`cannot listen on ${host}:${port}: ${error.message} (set ADMIN_PORT)`);
    process.exit(1);
  }
  console.log(`\nadmin console: ${served.url}/`);
  console.log(
    `the relay must allow this origin: RELAY_CORS_ORIGINS=${served.url} ` +
      `(in .dev.vars for wrangler dev, or --var RELAY_CORS_ORIGINS:${served.url})`,
  );
  console.log("Ctrl-C stops it.");
  const stop = () => served.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

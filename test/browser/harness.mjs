// Plumbing of the admin console's browser proof: the relay under `wrangler dev`, a receiver whose
// routes can fail or recover on demand, free ports, bounded waits, and cleanup of every child
// process by PID (its whole process group), also when the test fails or is interrupted.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { distributionFixturesDir, registriesFixturesDir } from "../fixtures/paths.mjs";
import { chromiumArgs, chromiumPath } from "../support/chromium.mjs";
import { freePort, killGroup, startRelay as startRelayProcess } from "../support/relay-process.mjs";

export { freePort };

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const fixturesDir = distributionFixturesDir;
export { registriesFixturesDir };

/**
 * The core's formats and endpoint config, bundled from src/ for Node (the same code the console
 * bundles), to compute what the page must show: `normalizeNotification`, `toCloudEvent`,
 * `toCDEvent` and `FormatError`.
 * @param {string} dir where to write the bundle
 */
export async function loadCore(dir) {
  const outfile = join(dir, "core-formats.mjs");
  await esbuild.build({
    stdin: {
      contents: 'export * from "./src/formats/index.ts";',
      resolveDir: repoRoot,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "warning",
  });
  return import(pathToFileURL(outfile).href);
}

/** @type {Map<number, string>} process-group leader PID → label */
const groups = new Map();

/** Kills every recorded process group now (synchronous, safe in an exit handler). */
export function killAllGroups() {
  for (const pid of groups.keys()) killGroup(pid, "SIGKILL");
  groups.clear();
}

process.on("exit", killAllGroups);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    killAllGroups();
    process.exit(130);
  });
}

/**
 * Records an already running process group (e.g. the browser Playwright started) for cleanup.
 * @param {number} pid
 * @param {string} label
 */
export function trackGroup(pid, label) {
  groups.set(pid, label);
}

/**
 * Stops a recorded group: SIGTERM, then SIGKILL after `graceMs`.
 * @param {number} pid
 */
export async function stopGroup(pid, graceMs = 3000) {
  if (!groups.has(pid)) return;
  killGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && killGroup(pid, 0)) await sleep(50);
  killGroup(pid, "SIGKILL");
  groups.delete(pid);
}

/**
 * Debian's Chromium through Playwright's launchServer (a fresh temporary profile, deleted on
 * close, and a PID recorded for cleanup), and one page of the given height. Browsers are never
 * downloaded: a missing Chromium is an error that says how to install it.
 * @param {number} height
 * @returns {Promise<{ browserServer: any, browserPid: number, browser: any, page: any }>}
 */
export async function launchChromium(height) {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: apt-get install chromium (browsers are never downloaded)`,
    );
  }
  const { chromium } = await import("playwright-core");
  const browserServer = await chromium.launchServer({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
  });
  const browserPid = browserServer.process().pid;
  trackGroup(browserPid, "chromium");
  const browser = await chromium.connect(browserServer.wsEndpoint());
  const context = await browser.newContext({ viewport: { width: 1440, height } });
  return { browserServer, browserPid, browser, page: await context.newPage() };
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Polls `check` until it returns a truthy value; throws after `timeoutMs` naming `what`. */
export async function waitFor(what, check, { timeoutMs = 20_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`,
  );
}

/**
 * A receiver on 127.0.0.1 with one route per endpoint. Each route answers with its current
 * `status` (settable at any time) and records the events of every 2xx delivery, in order.
 * @param {Record<string, number>} statuses path → HTTP status, e.g. { "/ci": 400 }
 */
export async function startReceiver(statuses) {
  const routes = new Map(
    Object.entries(statuses).map(([path, status]) => [path, { status, events: [], posts: 0 }]),
  );
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const route = routes.get(new URL(req.url ?? "/", "http://x").pathname);
      if (!route || req.method !== "POST") {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("no such route\n");
        return;
      }
      route.posts++;
      if (route.status >= 200 && route.status < 300) {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        for (const event of body.events) route.events.push(event);
      }
      // A hostile body: the console must show whatever reaches it as text.
      res.writeHead(route.status, { "content-type": "text/html" });
      res.end(`<img src=x onerror="window.__xss=1"> status ${route.status}`);
    });
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    route: (path) => routes.get(path),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * Starts `wrangler dev` on 127.0.0.1 (own process group, output to `logFile`) and waits for
 * `GET /healthz`. Returns `{ base, pid, stop }`.
 */
export async function startRelay({
  port,
  inspectorPort,
  persistDir,
  logFile,
  vars,
  timeoutMs = 90_000,
}) {
  writeFileSync(logFile, ""); // this run's output only
  let pid;
  const relay = await startRelayProcess({
    port,
    inspectorPort,
    persistDir,
    logFile,
    vars,
    timeoutMs,
    intervalMs: 250,
    onSpawn: (spawned) => {
      pid = spawned;
      trackGroup(pid, "wrangler dev");
    },
  }).catch(async (error) => {
    if (pid !== undefined) await stopGroup(pid); // forget the group it already stopped
    throw error;
  });
  return { base: relay.url, pid: relay.pid, stop: () => stopGroup(relay.pid) };
}

/** A fixture's raw body and its Content-Type. */
export function loadFixture(name) {
  const body = readFileSync(join(fixturesDir, `${name}.json`));
  const head = readFileSync(join(fixturesDir, `${name}.headers`), "utf8");
  const contentType = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim() ?? "application/json";
  return { name, body, head, contentType, events: JSON.parse(body.toString("utf8")).events };
}

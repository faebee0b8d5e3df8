#!/usr/bin/env node
// `npm start`: the relay on 127.0.0.1:8787 (wrangler dev, local persistence in .wrangler/state)
// delivering to the demo receiver on 127.0.0.1:8788, and the browser admin console on
// 127.0.0.1:8790, with dev-only tokens. Works as the first command on a fresh clone (installs
// dependencies when node_modules is missing or stale).
//   npm start -- --port 9000 --receiver-port 9001 --console-port 9002   (or RELAY_PORT, ...)
// Each child runs in its own process group; Ctrl-C, SIGTERM/SIGINT/SIGHUP to this process or to
// the npm process above it (npm forwards them), or the death of that parent, stops every group.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pushFixture } from "../test/fixtures/paths.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const host = "127.0.0.1";
const usage = `usage: npm start -- [options]
  --port <n>           the relay's port (RELAY_PORT, default 8787)
  --receiver-port <n>  the demo receiver's port (RELAY_RECEIVER_PORT, default 8788)
  --console-port <n>   the admin console's port (RELAY_CONSOLE_PORT, default 8790)
  --persist-to <dir>   the relay's local state (RELAY_STATE_DIR, default .wrangler/state)
  -h, --help           this text`;

function fail(message) {
  console.error(`[start] ${message}\n${usage}`);
  process.exit(2);
}

let cli;
try {
  cli = parseArgs({
    options: {
      port: { type: "string" },
      "receiver-port": { type: "string" },
      "console-port": { type: "string" },
      "persist-to": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (error) {
  fail(error.message);
}
if (cli.help) {
  console.log(usage);
  process.exit(0);
}

/** A port from `--flag`, else the environment variable, else the default; refuses anything else. */
function portOption(flag, envName, fallback) {
  const fromFlag = cli[flag] !== undefined;
  const text = fromFlag ? cli[flag] : (process.env[envName] ?? String(fallback));
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) {
    fail(
      `${fromFlag ? `--${flag}` : envName} must be a TCP port number from 1 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return { port, name: fromFlag ? `--${flag}` : envName };
}

const ports = {
  relay: portOption("port", "RELAY_PORT", 8787),
  receiver: portOption("receiver-port", "RELAY_RECEIVER_PORT", 8788),
  console: portOption("console-port", "RELAY_CONSOLE_PORT", 8790),
};
{
  const [a, b, c] = Object.values(ports);
  for (const [x, y] of [
    [a, b],
    [a, c],
    [b, c],
  ]) {
    if (x.port === y.port) fail(`${x.name} and ${y.name} are both ${x.port}; pick different ports`);
  }
}
const relayPort = ports.relay.port;
const receiverPort = ports.receiver.port;
const consolePort = ports.console.port;
const persistTo = cli["persist-to"] ?? process.env.RELAY_STATE_DIR ?? ".wrangler/state";
const relayUrl = `http://${host}:${relayPort}`;
const consoleOrigin = `http://${host}:${consolePort}`;

// Dev-only credentials: printed below, passed with --var, never meant for a deployment.
const ingestToken = process.env.RELAY_INGEST_TOKENS ?? "dev-ingest-token";
const adminToken = process.env.RELAY_ADMIN_TOKEN ?? "dev-admin-token";
const webhookSecret =
  process.env.DEMO_WEBHOOK_SECRET ??
  `whsec_${Buffer.from("registry-relay-dev-only-signing-key").toString("base64")}`;
const endpoints =
  process.env.RELAY_ENDPOINTS ??
  JSON.stringify([
    {
      name: "demo",
      url: `http://${host}:${receiverPort}/events`,
      timeout: "2s",
      backoff: "1s",
      secret: webhookSecret,
    },
  ]);

function log(message) {
  console.log(`[start] ${message}`);
}

function installReason() {
  const marker = join(root, "node_modules/.package-lock.json");
  if (!existsSync(marker) || !existsSync(join(root, "node_modules/wrangler/bin/wrangler.js"))) {
    return "node_modules is missing";
  }
  if (statSync(join(root, "package-lock.json")).mtimeMs > statSync(marker).mtimeMs) {
    return "package-lock.json is newer than node_modules";
  }
  return undefined;
}

function ensureInstalled() {
  const reason = installReason();
  if (!reason) return;
  log(`${reason}: running npm ci`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error("[start] npm ci failed; fix the error above and run npm start again");
    process.exit(result.status ?? 1);
  }
}

function portFree(port) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once("error", () => done(false));
    probe.listen(port, host, () => probe.close(() => done(true)));
  });
}

async function waitUntilReady(url, child, deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) return false;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      await response.arrayBuffer();
      if (response.ok) return true;
      // A 500 here is a config error: wrangler prints it; keep going so the user sees it.
      if (response.status === 500) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function sampleFixture() {
  const file = pushFixture;
  return existsSync(file) ? relative(process.cwd(), file) || file : undefined;
}

/** The console link that arrives connected: the console reads the fragment once and drops it. */
function consoleLink() {
  return `${consoleOrigin}/#relay=${relayUrl}&token=${encodeURIComponent(adminToken)}`;
}

function banner(consoleServed) {
  const fixture = sampleFixture();
  const body = fixture
    ? `--data-binary @${fixture}`
    : `--data-binary '{"events":[{"id":"${crypto.randomUUID()}","timestamp":"${new Date().toISOString()}","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"demo/hello","tag":"v1"}}]}'`;
  const lines = [
    "",
    "registry-relay is running (local, dev-only credentials):",
    `  relay          ${relayUrl}  (state in ${persistTo})`,
    `  demo receiver  http://${host}:${receiverPort}/events  (prints each event it gets)`,
    `  ingest token   ${ingestToken}`,
    `  admin token    ${adminToken}`,
    "",
    "Post an envelope (the demo receiver prints it, with its signature check):",
    `  curl -sS ${relayUrl}/v1/events \\`,
    `    -H 'Authorization: Bearer ${ingestToken}' \\`,
    "    -H 'Content-Type: application/vnd.docker.distribution.events.v1+json' \\",
    `    ${body}`,
    "(the same event id again is answered with duplicates: 1 and not delivered twice)",
    "",
    "Look at the queue:",
    `  curl -sS -H 'Authorization: Bearer ${adminToken}' ${relayUrl}/v1/endpoints`,
    `  curl -sS -H 'Authorization: Bearer ${adminToken}' ${relayUrl}/metrics`,
    consoleServed
      ? "Admin console (opens connected; the link's token is dev-only and leaves the address bar):"
      : "Admin console (could not be served here; see the error above):",
    `  ${consoleLink()}`,
    "",
    "Ctrl-C stops the relay, the receiver and the console.",
    "",
  ];
  console.log(lines.join("\n"));
}

ensureInstalled();

for (const { port, name } of Object.values(ports)) {
  if (!(await portFree(port))) {
    console.error(
      `[start] ${host}:${port} (${name}) is in use (another npm start?); stop it or pick another port`,
    );
    process.exit(1);
  }
}

/** Each child leads its own process group: a stop reaches wrangler's workerd too. */
const children = [];
let stopping = false;
let consoleServer;

/** Sends `signal` to the group led by `pid`; false when the group is gone. */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

// Last resort (also after an uncaught error): whatever is left of a group dies with us.
process.on("exit", () => {
  for (const child of children) killGroup(child.pid, "SIGKILL");
});

function stopAll(code) {
  if (stopping) {
    // A second Ctrl-C: do not wait for a graceful stop.
    process.exit(code);
  }
  stopping = true;
  for (const child of children) killGroup(child.pid, "SIGTERM");
  const force = setTimeout(() => process.exit(code), 5000);
  force.unref();
  Promise.all([
    consoleServer?.close(),
    ...children.map((child) =>
      child.exitCode !== null || child.signalCode !== null
        ? undefined
        : new Promise((r) => child.once("exit", r)),
    ),
  ]).then(() => process.exit(code)); // the exit handler kills what is left in the groups
}

function start(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true, // its own process group, killed as a whole
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? `code ${code}`}); stopping`);
      stopAll(code || 1);
    }
  });
  children.push(child);
  return child;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => stopAll(0));
}
// npm forwards SIGINT/SIGTERM to the `sh -c` that runs this script, and sh may die without
// passing it on; npm itself may be killed outright. So watch the parent and, under npm, the
// grandparent (npm, when sh sits between): once one is gone, stop, so no workerd outlives it.
const parentPid = process.ppid;
const watched = [parentPid];
if (process.env.npm_lifecycle_event && process.platform !== "win32") {
  const ps = spawnSync("ps", ["-o", "ppid=,comm=", "-p", String(parentPid)], { encoding: "utf8" });
  const [ppid, comm] = (ps.stdout ?? "").trim().split(/\s+/);
  if (Number(ppid) > 1 && !/^(node|npm)/.test(comm ?? "")) watched.push(Number(ppid));
}
const isGone = (pid) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === "ESRCH";
  }
};
setInterval(() => {
  if (process.ppid !== parentPid || watched.some(isGone)) stopAll(0);
}, 500).unref();

start("demo receiver", [join(root, "scripts/demo-receiver.mjs")], {
  PORT: String(receiverPort),
  HOST: host,
  DEMO_WEBHOOK_SECRET: process.env.RELAY_ENDPOINTS ? "" : webhookSecret,
});

// The console's origin is always allowed, whatever RELAY_CORS_ORIGINS adds.
const corsOrigins = [
  ...new Set([
    consoleOrigin,
    ...(process.env.RELAY_CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
  ]),
].join(",");

const relay = start(
  "wrangler dev",
  [
    join(root, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--ip",
    host,
    "--port",
    String(relayPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    "--var",
    `RELAY_ENDPOINTS:${endpoints}`,
    "--var",
    `RELAY_INGEST_TOKENS:${ingestToken}`,
    "--var",
    `RELAY_ADMIN_TOKEN:${adminToken}`,
    "--var",
    `RELAY_CORS_ORIGINS:${corsOrigins}`,
  ],
  { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
);

// The admin console (examples/browser-admin), built and served from this process.
let consoleServed = false;
try {
  const { buildConsole } = await import("../examples/browser-admin/build.mjs");
  const { serveConsole } = await import("../examples/browser-admin/serve.mjs");
  await buildConsole();
  if (!stopping) {
    consoleServer = await serveConsole({ port: consolePort });
    consoleServed = true;
  }
} catch (error) {
  console.error(`[start] the admin console is not served: ${error.message}`);
}

if (await waitUntilReady(`${relayUrl}/healthz`, relay, 90_000)) {
  if (!stopping) banner(consoleServed);
} else if (!stopping) {
  console.error("[start] the relay did not answer on /healthz within 90 s; stopping");
  stopAll(1);
}

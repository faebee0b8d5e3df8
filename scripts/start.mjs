#!/usr/bin/env node
// `npm start`: the relay on 127.0.0.1:8787 (wrangler dev, local persistence in .wrangler/state)
// delivering to the demo receiver on 127.0.0.1:8788, with dev-only tokens. Works as the first
// command on a fresh clone (installs dependencies when node_modules is missing or stale).
// Ctrl-C (or SIGTERM) stops both children.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { distributionFixturesDir } from "../test/fixtures/paths.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const relayPort = 8787;
const receiverPort = 8788;
const host = "127.0.0.1";

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
  const dir = distributionFixturesDir;
  const file = join(dir, "003-p01-push-alpha-v1--push-oci-manifest-v1.json");
  return existsSync(file) ? relative(process.cwd(), file) || file : undefined;
}

function banner() {
  const fixture = sampleFixture();
  const body = fixture
    ? `--data-binary @${fixture}`
    : `--data-binary '{"events":[{"id":"${crypto.randomUUID()}","timestamp":"${new Date().toISOString()}","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"demo/hello","tag":"v1"}}]}'`;
  const lines = [
    "",
    "registry-relay is running (local, dev-only credentials):",
    `  relay          http://${host}:${relayPort}  (state in .wrangler/state)`,
    `  demo receiver  http://${host}:${receiverPort}/events  (prints each event it gets)`,
    `  ingest token   ${ingestToken}`,
    `  admin token    ${adminToken}`,
    "",
    "Post an envelope (the demo receiver prints it, with its signature check):",
    `  curl -sS http://${host}:${relayPort}/v1/events \\`,
    `    -H 'Authorization: Bearer ${ingestToken}' \\`,
    "    -H 'Content-Type: application/vnd.docker.distribution.events.v1+json' \\",
    `    ${body}`,
    "(the same event id again is answered with duplicates: 1 and not delivered twice)",
    "",
    "Look at the queue:",
    `  curl -sS -H 'Authorization: Bearer ${adminToken}' http://${host}:${relayPort}/v1/endpoints`,
    `  curl -sS -H 'Authorization: Bearer ${adminToken}' http://${host}:${relayPort}/metrics`,
    "",
    "Ctrl-C stops the relay and the receiver.",
    "",
  ];
  console.log(lines.join("\n"));
}

ensureInstalled();

for (const port of [relayPort, receiverPort]) {
  if (!(await portFree(port))) {
    console.error(`[start] ${host}:${port} is in use (another npm start?); stop it and try again`);
    process.exit(1);
  }
}

const children = [];
let stopping = false;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
  const force = setTimeout(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 5000);
  force.unref();
  Promise.all(
    children.map((child) =>
      child.exitCode !== null || child.signalCode !== null
        ? undefined
        : new Promise((r) => child.once("exit", r)),
    ),
  ).then(() => process.exit(code));
}

function start(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
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

start("demo receiver", [join(root, "scripts/demo-receiver.mjs")], {
  PORT: String(receiverPort),
  HOST: host,
  DEMO_WEBHOOK_SECRET: process.env.RELAY_ENDPOINTS ? "" : webhookSecret,
});

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
    ".wrangler/state",
    "--show-interactive-dev-session=false",
    "--var",
    `RELAY_ENDPOINTS:${endpoints}`,
    "--var",
    `RELAY_INGEST_TOKENS:${ingestToken}`,
    "--var",
    `RELAY_ADMIN_TOKEN:${adminToken}`,
    // The admin console of `npm run admin` (examples/browser-admin) calls the relay from its origin.
    "--var",
    `RELAY_CORS_ORIGINS:${process.env.RELAY_CORS_ORIGINS ?? "http://127.0.0.1:8790"}`,
  ],
  { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
);

if (await waitUntilReady(`http://${host}:${relayPort}/healthz`, relay, 90_000)) {
  banner();
} else if (!stopping) {
  console.error("[start] the relay did not answer on /healthz within 90 s; stopping");
  stopAll(1);
}

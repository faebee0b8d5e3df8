// node-registry-sidecar: settings from the environment, the spool and dead-letter files, the
// metrics line and graceful shutdown around sidecar.mjs. Every stdout line is one JSON record.
//
//   SIDECAR_TOKEN            bearer token the registry sends (required)
//   RELAY_URL                where to forward, e.g. http://127.0.0.1:8787/v1/events (required)
//   RELAY_INGEST_TOKEN       bearer token for the relay (one of its RELAY_INGEST_TOKENS)
//   SIDECAR_PORT             port on 127.0.0.1 (default 5001; 0 picks a free one)
//   SIDECAR_CAPACITY         most events waiting in memory (default 10000)
//   SIDECAR_OVERFLOW         "reject" (503 to the registry, which resends; default) or
//                            "drop-oldest" (drops the oldest waiting events and logs their ids)
//   SIDECAR_TIMEOUT          per POST to the relay (default 5s)
//   SIDECAR_BACKOFF          first retry delay, doubling with jitter (default 1s) ...
//   SIDECAR_MAX_BACKOFF      ... up to this (default 30s)
//   SIDECAR_METRICS_INTERVAL how often to print the metrics line (default 10s)
//   SIDECAR_DRAIN_TIMEOUT    how long shutdown tries to deliver what is queued (default 30s)
//   SIDECAR_MAX_BODY_BYTES   largest accepted envelope (default 1048576)
//   SIDECAR_SPOOL            undelivered events at shutdown, restored at start
//                            (default sidecar-spool.jsonl)
//   SIDECAR_DEAD_LETTERS     envelopes the relay refused for good (default sidecar-dead-letters.jsonl)
import { appendFile, readFile, rename, rm, writeFile } from "node:fs/promises";
import { EnvelopeError, parseEnvelope } from "registry-relay";
import { ConfigError, parseDuration } from "registry-relay/config";
import { createSidecar } from "./sidecar.mjs";

const env = process.env;

function log(record) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}

function fail(message) {
  console.error(`node-registry-sidecar: ${message}`);
  process.exit(2);
}

function required(name) {
  const value = env[name]?.trim();
  if (!value) fail(`${name} is required`);
  return value;
}

function duration(name, fallback) {
  const raw = env[name] ?? fallback;
  let ms;
  try {
    ms = parseDuration(raw);
  } catch (error) {
    fail(`${name}: ${error instanceof ConfigError ? error.reason : error.message}`);
  }
  if (!(ms > 0)) fail(`${name}: must be longer than 0, got "${raw}"`);
  return ms;
}

function integer(name, fallback, min) {
  const raw = env[name] ?? String(fallback);
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    fail(`${name}: must be an integer >= ${min}, got "${raw}"`);
  }
  return Number(raw);
}

function httpUrl(name) {
  const raw = required(name);
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(`${name}: must be an absolute http or https URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail(`${name}: must be an absolute http or https URL`);
  }
  return raw;
}

const overflow = env.SIDECAR_OVERFLOW ?? "reject";
if (overflow !== "reject" && overflow !== "drop-oldest") {
  fail(`SIDECAR_OVERFLOW: must be "reject" or "drop-oldest", got "${overflow}"`);
}
const settings = {
  token: required("SIDECAR_TOKEN"),
  relayUrl: httpUrl("RELAY_URL"),
  relayToken: env.RELAY_INGEST_TOKEN?.trim() || undefined,
  port: integer("SIDECAR_PORT", 5001, 0),
  capacity: integer("SIDECAR_CAPACITY", 10_000, 1),
  overflow,
  timeout: duration("SIDECAR_TIMEOUT", "5s"),
  backoff: duration("SIDECAR_BACKOFF", "1s"),
  maxBackoff: duration("SIDECAR_MAX_BACKOFF", "30s"),
  metricsInterval: duration("SIDECAR_METRICS_INTERVAL", "10s"),
  drainTimeout: duration("SIDECAR_DRAIN_TIMEOUT", "30s"),
  maxBodyBytes: integer("SIDECAR_MAX_BODY_BYTES", 1024 * 1024, 1),
  spool: env.SIDECAR_SPOOL || "sidecar-spool.jsonl",
  deadLetters: env.SIDECAR_DEAD_LETTERS || "sidecar-dead-letters.jsonl",
};
if (settings.port > 65535) fail(`SIDECAR_PORT: must be at most 65535, got ${settings.port}`);

/** Events of the spool file (one JSON event per line), checked like any envelope. */
async function readSpool(file) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return [];
    throw error;
  }
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const events = [];
  for (const [index, line] of lines.entries()) {
    try {
      events.push(JSON.parse(line));
    } catch {
      fail(`${file}:${index + 1}: not JSON; fix or move the file, nothing was lost`);
    }
  }
  try {
    return parseEnvelope({ events }).events;
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    const [issue] = error.issues;
    const line = /^events\[(\d+)\]/.exec(issue.path);
    fail(`${file}:${line ? Number(line[1]) + 1 : 1}: ${issue.path} ${issue.message}`);
  }
}

/** Replaces the spool atomically (write a temporary file, then rename it over). */
async function writeSpool(file, events) {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, events.map((event) => `${JSON.stringify(event)}\n`).join(""));
  await rename(temporary, file);
}

const sidecar = createSidecar({
  ...settings,
  log,
  onDeadLetter: async (letter) => {
    const error =
      letter.lastError instanceof Error ? letter.lastError.message : String(letter.lastError);
    // The file keeps whole envelopes: each line can be resent as is once the cause is fixed.
    const line = {
      time: new Date().toISOString(),
      reason: letter.reason,
      attempts: letter.attempts,
      error,
      envelope: { events: letter.events },
    };
    await appendFile(settings.deadLetters, `${JSON.stringify(line)}\n`);
    log({
      type: "dead-letter",
      reason: letter.reason,
      attempts: letter.attempts,
      error,
      ids: letter.events.map((event) => event.id),
      file: settings.deadLetters,
    });
  },
});

const spooled = await readSpool(settings.spool);
const url = await sidecar
  .listen(settings.port)
  .catch((error) => fail(`cannot listen: ${error.message}`));
log({
  type: "listening",
  url,
  relay: new URL(settings.relayUrl).origin,
  capacity: settings.capacity,
  overflow: settings.overflow,
});
let restoring = Promise.resolve();
if (spooled.length > 0) {
  log({ type: "restoring", events: spooled.length, file: settings.spool });
  restoring = sidecar.restore(spooled).then(async (complete) => {
    if (!complete) return;
    // Every spooled event is in the queue now; a later shutdown spools what is left again.
    await rm(settings.spool, { force: true });
    log({ type: "restored", events: spooled.length });
  });
}

const metricsTimer = setInterval(
  () => log({ type: "metrics", ...sidecar.snapshot() }),
  settings.metricsInterval,
);

let stopping = false;
async function stop(signal) {
  if (stopping) {
    log({ type: "signal-ignored", signal, reason: "already draining" });
    return;
  }
  stopping = true;
  log({ type: "shutdown", signal, pending: sidecar.snapshot().queue.pending });
  const { drained, undelivered } = await sidecar.shutdown(settings.drainTimeout);
  clearInterval(metricsTimer);
  await restoring; // the spool file must not be removed after it was rewritten below
  let code = 0;
  if (undelivered.length > 0) {
    try {
      await writeSpool(settings.spool, undelivered);
      log({ type: "spooled", events: undelivered.length, file: settings.spool, drained });
    } catch (error) {
      // Last resort: the events on stderr, so an operator can still recover them.
      console.error(`node-registry-sidecar: cannot write ${settings.spool}: ${error.message}`);
      for (const event of undelivered) console.error(JSON.stringify(event));
      code = 1;
    }
  }
  log({ type: "metrics", ...sidecar.snapshot() });
  log({ type: "stopped", code });
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop(signal));

// Runs the sidecar (node start.mjs) between a "registry" (this test, posting real distribution
// 2.8.2 envelopes) and a fake relay on 127.0.0.1 that fails, refuses or recovers on demand.
// Asserts answers to the registry, delivery order, the metrics lines, both overflow policies,
// dead letters, graceful drain, and the spool that carries events across a restart.
//   node --test examples/node-registry-sidecar/
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { distributionFixturesDir } from "../../test/fixtures/paths.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = distributionFixturesDir;
const registryToken = "registry-to-sidecar-token";
const relayToken = "sidecar-to-relay-token";
const eventsType = "application/vnd.docker.distribution.events.v1+json";

const fixtureNames = readFileSync(join(fixturesDir, "INDEX.md"), "utf8").match(
  /\d{3}-[^\s|]+\.json/g,
);
/** The raw body of fixture number `n` (1-based, INDEX order) and its events. */
function fixture(n) {
  const body = readFileSync(join(fixturesDir, fixtureNames[n - 1]), "utf8");
  return { body, events: JSON.parse(body).events };
}
const idOf = (n) => fixture(n).events[0].id;

const running = new Set();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
});

/**
 * A relay stand-in. `respond(request, index)` picks each status (default 202); `delayMs` delays
 * every answer. Records `{ authorization, events, status }` per request.
 */
async function startFakeRelay() {
  const relay = {
    requests: [],
    respond: () => 202,
    delayMs: 0,
    /** Events the relay accepted (2xx), in order. */
    delivered: () => relay.requests.filter((r) => r.status < 300).flatMap((r) => r.events),
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const request = {
        authorization: req.headers.authorization,
        events: JSON.parse(Buffer.concat(chunks).toString("utf8")).events,
      };
      request.status = relay.respond(request, relay.requests.length);
      relay.requests.push(request);
      setTimeout(() => {
        res.writeHead(request.status, { "content-type": "application/json" });
        res.end("{}");
      }, relay.delayMs);
    });
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  relay.url = `http://127.0.0.1:${server.address().port}/v1/events`;
  relay.close = () =>
    new Promise((done) => {
      server.closeAllConnections();
      server.close(done);
    });
  return relay;
}

/** Starts `node start.mjs` in `dir`; `records` are its stdout JSON lines. */
function startSidecar(dir, relay, env = {}) {
  const child = spawn(process.execPath, [join(here, "start.mjs")], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      SIDECAR_TOKEN: registryToken,
      RELAY_URL: relay.url,
      RELAY_INGEST_TOKEN: relayToken,
      SIDECAR_PORT: "0",
      SIDECAR_BACKOFF: "20ms",
      SIDECAR_MAX_BACKOFF: "100ms",
      SIDECAR_METRICS_INTERVAL: "100ms",
      SIDECAR_TIMEOUT: "2s",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child.pid);
  const sidecar = { records: [], stdout: "", stderr: "", pid: child.pid };
  child.stdout.on("data", (chunk) => {
    sidecar.stdout += chunk;
    const lines = sidecar.stdout.split("\n");
    sidecar.stdout = lines.pop();
    for (const line of lines) sidecar.records.push(JSON.parse(line));
  });
  child.stderr.on("data", (chunk) => {
    sidecar.stderr += chunk;
  });
  sidecar.exited = new Promise((done) =>
    child.once("close", (code, signal) => {
      running.delete(child.pid);
      done({ code, signal });
    }),
  );
  sidecar.of = (type) => sidecar.records.filter((record) => record.type === type);
  sidecar.stop = async (signal = "SIGTERM") => {
    if (running.has(child.pid)) child.kill(signal);
    const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const result = await sidecar.exited;
    clearTimeout(force);
    return result;
  };
  return sidecar;
}

async function waitFor(what, check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function listening(sidecar) {
  const record = await waitFor("the listening line", () => {
    if (!running.has(sidecar.pid)) throw new Error(`the sidecar exited:\n${sidecar.stderr}`);
    return sidecar.of("listening")[0];
  });
  sidecar.url = record.url;
  return sidecar;
}

async function post(url, body, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${registryToken}`, "content-type": eventsType, ...headers },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

describe("node-registry-sidecar", { timeout: 120_000 }, () => {
  let dir;
  let relay;
  const sidecars = [];
  const launch = (env, cwd = dir) => {
    const sidecar = startSidecar(cwd, relay, env);
    sidecars.push(sidecar);
    return sidecar;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sidecar-test-"));
    relay = await startFakeRelay();
  });
  afterEach(async () => {
    await Promise.all(sidecars.splice(0).map((sidecar) => sidecar.stop("SIGKILL")));
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });
  after(() => {
    for (const pid of running) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  });

  it("answers the registry as soon as events are queued, and delivers in order once the relay recovers", async () => {
    relay.respond = (_request, index) => (index < 3 ? 503 : 202);
    const sidecar = await listening(launch());
    const numbers = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const n of numbers) {
      const answer = await post(sidecar.url, fixture(n).body);
      assert.equal(answer.status, 202);
      assert.deepEqual(answer.json, { accepted: 1 });
    }
    await waitFor("8 deliveries", () => relay.delivered().length >= 8);
    assert.deepEqual(
      relay.delivered().map((event) => event.id),
      numbers.map(idOf),
    );
    assert.ok(relay.requests.every((r) => r.authorization === `Bearer ${relayToken}`));
    assert.deepEqual(relay.requests[0].events, relay.requests[1].events, "the first one retried");

    const settled = await waitFor("a metrics line with everything delivered", () =>
      sidecar.of("metrics").find((m) => m.relay.successes === 8 && m.queue.pending === 0),
    );
    assert.deepEqual(settled.requests, { accepted: 8, refused: 0, queueFull: 0, unavailable: 0 });
    assert.deepEqual(settled.relay, {
      events: 8,
      successes: 8,
      failures: 3,
      errors: 0,
      statuses: { "503 Service Unavailable": 3, "202 Accepted": 8 },
    });
    assert.deepEqual(settled.queue, {
      pending: 0,
      capacity: 10000,
      overflow: "reject",
      dropped: 0,
      backlog: 0,
    });
    assert.equal(settled.deadLettered, 0);
    assert.ok(sidecar.of("metrics").length >= 2, "a metrics line every SIDECAR_METRICS_INTERVAL");
    assert.ok(sidecar.records.every((record) => typeof record.time === "string"));

    assert.deepEqual(await sidecar.stop(), { code: 0, signal: null });
    assert.deepEqual(
      sidecar.records.slice(-3).map((record) => record.type),
      ["shutdown", "metrics", "stopped"],
    );
    assert.equal(existsSync(join(dir, "sidecar-spool.jsonl")), false, "nothing to spool");
    const output = JSON.stringify(sidecar.records) + sidecar.stderr;
    assert.ok(!output.includes(registryToken) && !output.includes(relayToken), "no token printed");
  });

  it("refuses what is not an authenticated envelope, before it reaches the queue", async () => {
    const sidecar = await listening(launch({ SIDECAR_MAX_BODY_BYTES: "2000" }));
    const { body } = fixture(3);
    const cases = [
      [{ authorization: "" }, 401, "unauthorized"],
      [{ authorization: "Bearer wrong" }, 401, "unauthorized"],
      [
        { authorization: `Basic ${Buffer.from(`x:${registryToken}`).toString("base64")}` },
        401,
        "unauthorized",
      ],
      [{ "content-type": "text/plain" }, 415, "unsupported_media_type"],
    ];
    for (const [headers, status, code] of cases) {
      const answer = await post(sidecar.url, body, headers);
      assert.equal(answer.status, status, JSON.stringify(headers));
      assert.equal(answer.json.error.code, code);
    }
    const broken = JSON.parse(body);
    delete broken.events[0].target.repository;
    const bad = await post(sidecar.url, JSON.stringify(broken));
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.json.error.issues.map((issue) => issue.path),
      ["events[0].target.repository"],
    );
    const big = await post(sidecar.url, JSON.stringify({ events: [], pad: "x".repeat(3000) }));
    assert.equal(big.status, 413);
    const get = await fetch(sidecar.url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal((await fetch(sidecar.url.replace("/events", "/nope"))).status, 404);
    assert.equal((await fetch(sidecar.url.replace("/events", "/healthz"))).status, 200);
    const metrics = await (await fetch(sidecar.url.replace("/events", "/metrics"))).json();
    assert.deepEqual(metrics.requests, { accepted: 0, refused: 6, queueFull: 0, unavailable: 0 });
    assert.equal(relay.requests.length, 0);
  });

  it('overflow "reject": a full queue answers 503 + Retry-After, so the registry keeps the event', async () => {
    relay.respond = () => 503;
    const sidecar = await listening(launch({ SIDECAR_CAPACITY: "2" }));
    // The first write is in flight (not counted against capacity), two more wait.
    for (const n of [1, 2, 3]) assert.equal((await post(sidecar.url, fixture(n).body)).status, 202);
    const full = await post(sidecar.url, fixture(4).body);
    assert.equal(full.status, 503);
    assert.equal(full.headers.get("retry-after"), "1");
    assert.equal(full.json.error.code, "queue_full");
    const metrics = await (await fetch(sidecar.url.replace("/events", "/metrics"))).json();
    assert.equal(metrics.requests.queueFull, 1);
    assert.equal(metrics.queue.pending, 3);
    assert.equal(metrics.queue.dropped, 0);

    relay.respond = () => 202;
    await waitFor("3 deliveries", () => relay.delivered().length >= 3);
    // The registry resends the refused envelope; now there is room.
    assert.equal((await post(sidecar.url, fixture(4).body)).status, 202);
    await waitFor("4 deliveries", () => relay.delivered().length >= 4);
    assert.deepEqual(
      relay.delivered().map((event) => event.id),
      [1, 2, 3, 4].map(idOf),
    );
  });

  it('overflow "drop-oldest": every envelope is answered 202, the oldest waiting one is dropped and logged', async () => {
    relay.respond = () => 503;
    const sidecar = await listening(
      launch({ SIDECAR_CAPACITY: "2", SIDECAR_OVERFLOW: "drop-oldest" }),
    );
    for (const n of [1, 2, 3, 4])
      assert.equal((await post(sidecar.url, fixture(n).body)).status, 202);
    const [dropped] = sidecar.of("dropped");
    assert.deepEqual(dropped.ids, [idOf(2)]);
    assert.match(dropped.reason, /capacity 2, overflow drop-oldest/);

    relay.respond = () => 202;
    await waitFor("3 deliveries", () => relay.delivered().length >= 3);
    assert.deepEqual(
      relay.delivered().map((event) => event.id),
      [1, 3, 4].map(idOf),
    );
    const settled = await waitFor("metrics after the drop", () =>
      sidecar.of("metrics").find((m) => m.queue.pending === 0 && m.relay.successes === 3),
    );
    assert.equal(settled.queue.dropped, 1);
    assert.equal(settled.queue.overflow, "drop-oldest");
  });

  it("dead-letters what the relay refuses for good (400) but keeps retrying a 401", async () => {
    const refused = idOf(2);
    relay.respond = (request, index) =>
      index === 0 ? 401 : request.events[0].id === refused ? 400 : 202;
    const sidecar = await listening(launch());
    for (const n of [1, 2, 3]) assert.equal((await post(sidecar.url, fixture(n).body)).status, 202);
    await waitFor("2 deliveries", () => relay.delivered().length >= 2);
    const [letter] = await waitFor(
      "the dead-letter line",
      () => sidecar.of("dead-letter")[0] && sidecar.of("dead-letter"),
    );
    assert.deepEqual(letter.ids, [refused]);
    assert.equal(letter.reason, "final");
    assert.equal(letter.attempts, 1);
    assert.match(letter.error, /400 Bad Request/);
    assert.deepEqual(
      relay.delivered().map((event) => event.id),
      [idOf(1), idOf(3)],
    );
    const lines = readFileSync(join(dir, "sidecar-dead-letters.jsonl"), "utf8").trim().split("\n");
    assert.equal(lines.length, 1);
    const stored = JSON.parse(lines[0]);
    assert.deepEqual(stored.envelope, { events: fixture(2).events });
    const settled = await waitFor("metrics", () =>
      sidecar.of("metrics").find((m) => m.deadLettered === 1 && m.queue.pending === 0),
    );
    assert.deepEqual(settled.relay.statuses, {
      "401 Unauthorized": 1,
      "400 Bad Request": 1,
      "202 Accepted": 2,
    });
  });

  it("drains the queue on SIGTERM before it exits", async () => {
    relay.delayMs = 80;
    const sidecar = await listening(launch());
    const numbers = [1, 2, 3, 4, 5, 6];
    for (const n of numbers) assert.equal((await post(sidecar.url, fixture(n).body)).status, 202);
    // The registry was answered once each event was queued, not once it was delivered.
    assert.ok(relay.delivered().length < numbers.length, "answers do not wait for the relay");
    const result = await sidecar.stop();
    assert.deepEqual(result, { code: 0, signal: null });
    const [shutdown] = sidecar.of("shutdown");
    assert.ok(shutdown.pending >= 1, `pending at SIGTERM: ${shutdown.pending}`);
    assert.deepEqual(
      relay.delivered().map((event) => event.id),
      numbers.map(idOf),
    );
    assert.equal(sidecar.of("metrics").at(-1).queue.pending, 0);
    assert.equal(sidecar.of("spooled").length, 0);
    assert.equal(existsSync(join(dir, "sidecar-spool.jsonl")), false);
  });

  it("spools what the relay did not take by the drain deadline, and restores it first on restart", async () => {
    relay.respond = () => 503;
    const first = await listening(launch({ SIDECAR_DRAIN_TIMEOUT: "300ms" }));
    for (const n of [1, 2, 3]) assert.equal((await post(first.url, fixture(n).body)).status, 202);
    const started = Date.now();
    assert.deepEqual(await first.stop(), { code: 0, signal: null });
    assert.ok(Date.now() - started < 5000, "the drain deadline bounds the shutdown");
    assert.deepEqual(first.of("spooled")[0].events, 3);
    const spool = join(dir, "sidecar-spool.jsonl");
    const spooled = readFileSync(spool, "utf8").trim().split("\n").map(JSON.parse);
    assert.deepEqual(
      spooled.map((event) => event.id),
      [1, 2, 3].map(idOf),
    );

    // Restart with room for one event while the relay is still down: the backlog waits, and the
    // registry is told to come back later so that nothing overtakes the spooled events.
    const second = await listening(launch({ SIDECAR_CAPACITY: "1" }));
    // The sidecar logs "restoring" just after "listening": wait for the line, do not race it.
    assert.deepEqual(
      (await waitFor("the restoring line", () => second.of("restoring")[0])).events,
      3,
    );
    const busy = await post(second.url, fixture(4).body);
    assert.equal(busy.status, 503);
    assert.equal(busy.json.error.code, "restoring");

    relay.respond = () => 202;
    await waitFor("the restored line", () => second.of("restored")[0]);
    await waitFor("3 deliveries", () => relay.delivered().length >= 3);
    assert.equal(existsSync(spool), false, "the spool is removed once its events are queued");
    assert.equal((await post(second.url, fixture(4).body)).status, 202);
    await waitFor("4 deliveries", () => relay.delivered().length >= 4);
    // Spooled events first, in their order, then the new one.
    assert.deepEqual(
      relay.delivered().map((event) => event.id),
      [1, 2, 3, 4].map(idOf),
    );
  });

  it("refuses to start with bad settings or a corrupt spool, naming the cause", async () => {
    const cases = [
      [{ SIDECAR_TOKEN: "" }, /SIDECAR_TOKEN is required/],
      [{ RELAY_URL: "relay.local" }, /RELAY_URL: must be an absolute http or https URL/],
      [
        { SIDECAR_OVERFLOW: "drop-newest" },
        /SIDECAR_OVERFLOW: must be "reject" or "drop-oldest", got "drop-newest"/,
      ],
      [{ SIDECAR_BACKOFF: "fast" }, /SIDECAR_BACKOFF: "fast" is not a duration/],
      [{ SIDECAR_CAPACITY: "0" }, /SIDECAR_CAPACITY: must be an integer >= 1, got "0"/],
    ];
    for (const [env, message] of cases) {
      const sidecar = launch(env);
      assert.deepEqual(await sidecar.exited, { code: 2, signal: null }, JSON.stringify(env));
      assert.match(sidecar.stderr, message);
    }
    const event = fixture(1).events[0];
    writeFileSync(
      join(dir, "sidecar-spool.jsonl"),
      `${JSON.stringify(event)}\n${JSON.stringify({ ...event, target: {} })}\n`,
    );
    const corrupt = launch();
    assert.deepEqual(await corrupt.exited, { code: 2, signal: null });
    assert.match(corrupt.stderr, /sidecar-spool\.jsonl:2: events\[1\]\.target\.repository/);
    assert.equal(existsSync(join(dir, "sidecar-spool.jsonl")), true, "the file is left alone");
  });
});

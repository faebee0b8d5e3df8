// Load test of the relay as deployed locally (`wrangler dev`, through test/support/relay-process.mjs):
// 2,000 single-event envelopes built from the captured distribution 2.8.2 bodies (unique event
// ids, 20 repositories) over 20 concurrent keep-alive connections, fanned out to three endpoints:
//   healthy      FIFO, a receiver that answers 200;
//   partitioned  `partitions: 4`, `maxBatch: 4`, a receiver that answers 200;
//   flaky        FIFO, `maxAttempts: 4`, a receiver that fails 30% of attempts (15% 500, 15% a
//                TCP reset after reading the body), chosen by a seeded hash of (event id, attempt).
// Then: every event of every 202 reaches each endpoint or is a dead letter exactly where the
// rules say (flaky: the events whose first 4 attempts all failed), nothing is lost, order holds
// (FIFO endpoints: the acceptance order as far as the client can know it, i.e. every event
// acknowledged before another was sent arrives first; per repository everywhere), and extra
// arrivals come only from failed attempts. One block of figures is printed at the end.
// wrangler dev serves a bundle made at the start (scripts/bundle-worker.mjs, `--no-bundle`), so an
// edit to the tree during the run cannot hot-reload the relay (a reload restarts every Durable
// Object: each POST in flight is sent again, which is at-least-once, not what this test measures).
//   node --test --test-reporter=spec test/load/load.test.mjs   (npm run test:load)
// LOAD_SEED=<n> changes the event ids and the fault plan (printed with the figures).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundleWorker } from "../../scripts/bundle-worker.mjs";
import { distributionFixtureNames, distributionFixturesDir } from "../fixtures/paths.mjs";
import { prng } from "../support/prng.mjs";
import { repoRoot, startRelay } from "../support/relay-process.mjs";
import { fnv1a, seededFaults, startReceiver } from "./receiver.mjs";

const ENVELOPES = 2000;
const REPOSITORIES = 20;
const CONNECTIONS = 20;
const PARTITIONS = 4;
const FLAKY_RATE = 0.3;
const FLAKY_MAX_ATTEMPTS = 4;
const SEED = Number(process.env.LOAD_SEED ?? 20260702) >>> 0;
/** The relay must have delivered (or dead-lettered) everything this long after the last 202. */
const DRAIN_TIMEOUT_MS = 120_000;
/** Bound on ingest: a registry would resend on 503 or a dropped connection; we do too, a little. */
const INGEST_TRIES = 5;
const INGEST_TIMEOUT_MS = 90_000;
/** After the drain, how long to keep listening for a late duplicate. */
const SETTLE_MS = 750;

const v1 = "application/vnd.docker.distribution.events.v1+json";
const ingestToken = "load-ingest-token-7d1c";
const adminToken = "load-admin-token-52aa";

// Everything this file starts is killed when the process exits, whatever happened.
const groups = new Set();
process.on("exit", () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

const percentile = (sorted, p) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const sleep = (ms) => new Promise((wake) => setTimeout(wake, ms));

/** A UUID v4-shaped id from a seeded PRNG (reproducible runs). */
function seededUuid(random) {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((Number.parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The core's partition of a repository (FNV-1a 32-bit of its ASCII bytes, modulo n). */
const partitionOf = (repository, n) => (n <= 1 ? 0 : fnv1a(repository) % n);

/**
 * The envelopes: captured registry bodies with their bytes kept except the event id (unique,
 * seeded) and the repository (20 of them, also in the target URL). Envelope k is about
 * repository k % 20 and is sent by connection-worker k % 20, in k order.
 */
function buildEnvelopes() {
  const names = distributionFixtureNames();
  assert.ok(names.length > 0, `no fixtures in ${distributionFixturesDir}`);
  const fixtures = names.map((name) => readFileSync(join(distributionFixturesDir, name), "utf8"));
  const random = prng(SEED);
  const envelopes = [];
  for (let k = 0; k < ENVELOPES; k++) {
    const raw = fixtures[k % fixtures.length];
    const [event] = JSON.parse(raw).events;
    const id = seededUuid(random);
    const repository = `load/repo-${String(k % REPOSITORIES).padStart(2, "0")}`;
    const original = event.target.repository;
    const body = raw
      .replace(`"id": "${event.id}"`, `"id": "${id}"`)
      .split(`"repository": "${original}"`)
      .join(`"repository": "${repository}"`)
      .split(`/v2/${original}/`)
      .join(`/v2/${repository}/`);
    const check = JSON.parse(body).events;
    assert.equal(check.length, 1);
    assert.equal(check[0].id, id);
    assert.equal(check[0].target.repository, repository);
    envelopes.push({ k, id, repository, body, firstSentAt: 0, ackedAt: 0, status: 0, tries: 0 });
  }
  assert.equal(new Set(envelopes.map((e) => e.id)).size, ENVELOPES, "event ids are unique");
  return envelopes;
}

/** One POST over the keep-alive agent; resolves with status, JSON body and timing. */
function post(agent, url, body, sockets) {
  return new Promise((done) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${ingestToken}`,
          "content-type": v1,
          "content-length": Buffer.byteLength(body),
        },
        timeout: 15_000,
      },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {}
          done({ status: res.statusCode, json, text, started, ended: performance.now() });
        });
        res.on("error", (error) => done({ status: 0, error, started, ended: performance.now() }));
      },
    );
    req.on("socket", (socket) => sockets.add(socket));
    req.on("timeout", () => req.destroy(new Error("ingest request timed out")));
    req.on("error", (error) => done({ status: 0, error, started, ended: performance.now() }));
    req.end(body);
  });
}

/** Sends every envelope: CONNECTIONS workers, each one sequential over its share. */
async function ingest(relayUrl, envelopes) {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: CONNECTIONS,
    maxFreeSockets: CONNECTIONS,
  });
  const sockets = new Set();
  const latencies = [];
  const problems = [];
  let resends = 0;
  let duplicatesReported = 0;
  const deadline = performance.now() + INGEST_TIMEOUT_MS;
  const started = performance.now();
  const worker = async (w) => {
    for (let k = w; k < envelopes.length; k += CONNECTIONS) {
      const envelope = envelopes[k];
      for (let t = 0; t < INGEST_TRIES && envelope.status !== 202; t++) {
        if (performance.now() > deadline) {
          problems.push(`ingest ran past ${INGEST_TIMEOUT_MS} ms`);
          return;
        }
        if (t > 0) {
          resends++;
          await sleep(250);
        }
        envelope.tries++;
        const result = await post(agent, `${relayUrl}/v1/events`, envelope.body, sockets);
        if (envelope.firstSentAt === 0) envelope.firstSentAt = result.started;
        envelope.status = result.status;
        if (result.status === 202) {
          envelope.ackedAt = result.ended;
          latencies.push(result.ended - result.started);
          for (const outcome of result.json?.endpoints ?? []) {
            duplicatesReported += outcome.duplicates;
            if (outcome.queued + outcome.duplicates !== 1)
              problems.push(`#${k}: ${outcome.name} answered ${JSON.stringify(outcome)}`);
          }
        } else if (result.status !== 503 && result.status !== 0) {
          problems.push(`#${k}: ${result.status} ${result.text?.slice(0, 200)}`);
          break; // not a retryable answer: a registry would drop it too
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  const ms = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    ms,
    latencies,
    sockets: sockets.size,
    resends,
    duplicatesReported,
    problems,
    lastAckAt: Math.max(...envelopes.map((e) => e.ackedAt)),
  };
}

async function admin(relayUrl, path) {
  const response = await fetch(`${relayUrl}${path}`, {
    headers: { authorization: `Bearer ${adminToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `GET ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Every dead letter of an endpoint, through the admin API's pages (bounded). */
async function deadLetters(relayUrl, name) {
  const items = [];
  let cursor = "";
  for (let page = 0; page < 50; page++) {
    const query = `state=dead&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await admin(relayUrl, `/v1/endpoints/${name}/events?${query}`);
    items.push(...body.items);
    if (!body.nextCursor) return items;
    cursor = body.nextCursor;
  }
  throw new Error(`dead letters of ${name}: more than 50 pages`);
}

/**
 * Order check against what the client knows of the acceptance order: an event acknowledged
 * (202) before another was first sent was committed first, so it must arrive first. Returns the
 * first violation, or null. O(n): walking the arrivals, no event may have been acked before the
 * latest first-send time among the events that arrived ahead of it.
 */
function happenedBeforeViolation(order, byId) {
  let latest = null; // the arrival so far with the latest firstSentAt
  for (const id of order) {
    const event = byId.get(id);
    if (latest && event.ackedAt < latest.firstSentAt) {
      return `${event.id} (#${event.k}, acked at ${event.ackedAt.toFixed(1)} ms) arrived after ${latest.id} (#${latest.k}, first sent at ${latest.firstSentAt.toFixed(1)} ms)`;
    }
    if (!latest || event.firstSentAt > latest.firstSentAt) latest = event;
  }
  return null;
}

/** Per repository, the arrival order must be the send order (k ascending). */
function repositoryOrderViolation(order, byId) {
  const last = new Map();
  for (const id of order) {
    const event = byId.get(id);
    const previous = last.get(event.repository);
    if (previous !== undefined && previous > event.k) {
      return `${event.repository}: #${event.k} arrived after #${previous}`;
    }
    last.set(event.repository, event.k);
  }
  return null;
}

describe("relay under load (wrangler dev, 2,000 envelopes, 3 endpoints)", {
  timeout: 300_000,
}, () => {
  const run = {};
  let relay;
  let persistDir;
  let receivers;
  const faults = seededFaults(SEED, FLAKY_RATE);

  before(
    async () => {
      const envelopes = buildEnvelopes();
      run.envelopes = envelopes;
      run.byId = new Map(envelopes.map((e) => [e.id, e]));
      receivers = {
        healthy: await startReceiver({ name: "healthy" }),
        partitioned: await startReceiver({ name: "partitioned" }),
        flaky: await startReceiver({ name: "flaky", faults }),
      };
      const endpoints = [
        {
          name: "healthy",
          url: receivers.healthy.url,
          timeout: "3s",
          threshold: 3,
          backoff: "50ms",
        },
        {
          name: "partitioned",
          url: receivers.partitioned.url,
          timeout: "3s",
          threshold: 3,
          backoff: "50ms",
          partitions: PARTITIONS,
          maxBatch: 4,
        },
        {
          name: "flaky",
          url: receivers.flaky.url,
          timeout: "3s",
          threshold: 1,
          backoff: "20ms",
          maxAttempts: FLAKY_MAX_ATTEMPTS,
          maxAge: "2m",
        },
      ];
      persistDir = mkdtempSync(join(tmpdir(), "relay-load-"));
      // The relay's output is kept (gitignored) for a look after a failure.
      const artifacts = join(repoRoot, "test/artifacts/load");
      mkdirSync(artifacts, { recursive: true });
      run.logFile = join(artifacts, "relay.log");
      writeFileSync(run.logFile, "");
      // wrangler dev runs a bundle frozen now (`--no-bundle`, config watching off): an edit to
      // worker/ or src/ during the run would otherwise hot-reload the relay, restarting every
      // Durable Object mid-delivery (at least once: each in-flight POST is sent again).
      // The bundle and its config sit apart from the state directory, which changes all the time.
      const bundleDir = join(persistDir, "bundle");
      mkdirSync(bundleDir);
      await bundleWorker(join(bundleDir, "worker.js"), { logLevel: "error" });
      const config = readFileSync(join(repoRoot, "wrangler.toml"), "utf8");
      assert.match(config, /^main = .*$/m, "wrangler.toml has a `main` line");
      const configPath = join(bundleDir, "wrangler.toml");
      writeFileSync(configPath, config.replace(/^main = .*$/m, 'main = "worker.js"'));
      process.env.WRANGLER_CI_DISABLE_CONFIG_WATCHING = "true";
      const startedAt = performance.now();
      relay = await startRelay({
        persistDir: join(persistDir, "state"),
        logFile: run.logFile,
        extraArgs: ["--config", configPath, "--no-bundle"],
        vars: {
          RELAY_ENDPOINTS: JSON.stringify(endpoints),
          RELAY_INGEST_TOKENS: ingestToken,
          RELAY_ADMIN_TOKEN: adminToken,
        },
        onSpawn: (pid, exited) => {
          groups.add(pid);
          exited.then(() => groups.delete(pid));
        },
      });
      run.startMs = performance.now() - startedAt;

      run.ingest = await ingest(relay.url, envelopes);
      run.accepted = envelopes.filter((e) => e.status === 202);

      // Drain: every endpoint's queue empty (pending rows include an attempt in flight).
      const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
      let snapshot;
      for (;;) {
        snapshot = await admin(relay.url, "/v1/endpoints");
        if (snapshot.endpoints.every((endpoint) => endpoint.depth === 0)) break;
        if (Date.now() > drainDeadline) {
          const state = snapshot.endpoints
            .map((e) => `${e.name}: depth ${e.depth}, dead ${e.deadLetters}`)
            .join("; ");
          const got = Object.values(receivers)
            .map((r) => `${r.name} got ${r.attempts.size} distinct ids`)
            .join("; ");
          throw new Error(
            `drain timeout: not drained ${DRAIN_TIMEOUT_MS / 1000} s after ingest (${state}; ${got}); relay log: ${run.logFile}`,
          );
        }
        await sleep(250);
      }
      run.drainedAt = performance.now();
      run.reloads = (
        readFileSync(run.logFile, "utf8").match(/Reloading local server/g) ?? []
      ).length;
      await sleep(SETTLE_MS); // a late duplicate would show up here
      run.snapshot = await admin(relay.url, "/v1/endpoints");
      run.dead = {};
      for (const name of Object.keys(receivers))
        run.dead[name] = await deadLetters(relay.url, name);
    },
    { timeout: 280_000 },
  );

  after(async () => {
    await relay?.stop();
    for (const receiver of Object.values(receivers ?? {})) await receiver.close();
    if (run.ingest && run.drainedAt) printFigures();
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  /** Per endpoint: arrivals split into what the rules explain and what they do not. */
  function tally(name) {
    const receiver = receivers[name];
    const accepted = run.accepted.map((e) => e.id);
    const dead = new Set(run.dead[name].map((item) => item.id));
    const delivered = new Set(accepted.filter((id) => (receiver.successes.get(id) ?? 0) > 0));
    const lost = accepted.filter((id) => !delivered.has(id) && !dead.has(id));
    let againAfterSuccess = 0; // an id POSTed again after it was answered 2xx
    let againAfterReset = 0; // an id POSTed again after a reset (the body had been read)
    let againAfter500 = 0; // a retry the receiver asked for
    const state = new Map();
    const repeats = [];
    for (const arrival of receiver.arrivals) {
      for (const id of arrival.ids) {
        const before = state.get(id);
        if (before === "ok") {
          againAfterSuccess++;
          repeats.push(
            `${id} (#${run.byId.get(id)?.k}) again at ${(arrival.at / 1000).toFixed(2)} s`,
          );
        } else if (before === "reset") againAfterReset++;
        else if (before === "500") againAfter500++;
        state.set(id, arrival.outcome);
      }
    }
    const endpoint = run.snapshot.endpoints.find((e) => e.name === name);
    return {
      receiver,
      accepted,
      dead,
      delivered,
      lost,
      posts: receiver.arrivals.length,
      againAfterSuccess,
      repeats,
      againAfterReset,
      againAfter500,
      endpoint,
      drainS: receiver.lastNewAt ? (receiver.lastNewAt - run.ingest.lastAckAt) / 1000 : Number.NaN,
      // Events whose first POST came after the last 202: the backlog left when ingest ended.
      backlogAtLastAck: new Set(
        receiver.arrivals.filter((a) => a.at > run.ingest.lastAckAt).flatMap((a) => a.ids),
      ).size,
    };
  }

  function printFigures() {
    const { ingest: load, envelopes } = run;
    if (run.accepted.length === 0) {
      console.log(
        `── load figures (seed ${SEED}) ──\nnothing was accepted; relay log: ${run.logFile}`,
      );
      return;
    }
    const firstSent = Math.min(...envelopes.map((e) => e.firstSentAt));
    const p = (q) => percentile(load.latencies, q).toFixed(1);
    const lines = [
      `── load figures (seed ${SEED}) ──`,
      `relay: wrangler dev up in ${(run.startMs / 1000).toFixed(1)} s, ${run.reloads} reloads during the run`,
      `ingest: ${run.accepted.length}/${ENVELOPES} envelopes 202 over ${load.sockets} keep-alive connections in ${(load.ms / 1000).toFixed(2)} s = ${((run.accepted.length / load.ms) * 1000).toFixed(0)} req/s; latency p50 ${p(50)} ms, p99 ${p(99)} ms, max ${p(100)} ms; ${load.resends} resends`,
      `drain: every queue empty ${((run.drainedAt - load.lastAckAt) / 1000).toFixed(2)} s after the last 202 (${((run.drainedAt - firstSent) / 1000).toFixed(2)} s after the first request)`,
    ];
    for (const name of Object.keys(receivers)) {
      const t = tally(name);
      const m = t.endpoint?.metrics ?? {};
      lines.push(
        `${name.padEnd(11)} ${t.delivered.size} delivered, ${t.dead.size} dead letters, ${t.lost.length} lost; ${t.posts} POSTs over ${t.receiver.connections} connections; last new event ${t.drainS.toFixed(2)} s after the last 202 (${t.backlogAtLastAck} events sent after it: ${t.drainS > 0.5 ? (t.backlogAtLastAck / t.drainS).toFixed(0) : "-"} ev/s); duplicates: ${t.againAfterSuccess} after a 2xx, ${t.againAfterReset} after a reset (${t.receiver.injected.reset} resets, ${t.receiver.injected["500"]} 500s injected); relay counted ${m.successes ?? "?"} ok, ${m.failures ?? "?"} failed, ${m.errors ?? "?"} errors`,
      );
    }
    console.log(lines.join("\n"));
  }

  it("accepts every envelope (202), each event queued once per endpoint", () => {
    const { problems } = run.ingest;
    assert.equal(
      problems.length,
      0,
      `${problems.length} ingest problems, the first: ${problems.slice(0, 3).join(" | ")}`,
    );
    assert.equal(run.accepted.length, ENVELOPES);
    // A resend after a lost 202 is reported as a duplicate, which is fine; nothing else is.
    assert.ok(run.ingest.duplicatesReported <= run.ingest.resends * 3);
  });

  it("delivers every accepted event to each endpoint or dead-letters it by the rules: 0 lost", () => {
    for (const name of ["healthy", "partitioned", "flaky"]) {
      const t = tally(name);
      assert.deepEqual(t.lost, [], `${name}: accepted events neither delivered nor dead`);
      for (const id of t.dead)
        assert.ok(!t.delivered.has(id), `${name}: ${id} was delivered and is a dead letter`);
      assert.equal(t.endpoint.depth, 0, `${name}: depth`);
      assert.equal(t.endpoint.metrics.events, ENVELOPES, `${name}: events counted by the relay`);
    }
    for (const name of ["healthy", "partitioned"]) {
      assert.equal(tally(name).dead.size, 0, `${name}: no dead letters for a healthy receiver`);
    }
    // Flaky: exactly the events whose first maxAttempts attempts all failed are dead letters,
    // after exactly maxAttempts POSTs; every other one was delivered.
    const flaky = tally("flaky");
    const predicted = run.accepted
      .map((e) => e.id)
      .filter((id) =>
        Array.from({ length: FLAKY_MAX_ATTEMPTS }, (_, a) => faults(id, a + 1)).every(
          (outcome) => outcome !== "ok",
        ),
      );
    assert.deepEqual([...flaky.dead].sort(), [...predicted].sort(), "flaky: dead letters");
    for (const item of run.dead.flaky) {
      assert.equal(item.attempts, FLAKY_MAX_ATTEMPTS, `flaky: attempts of dead ${item.id}`);
      assert.equal(item.reason, "max-attempts", `flaky: reason of dead ${item.id}`);
      assert.equal(flaky.receiver.attempts.get(item.id), FLAKY_MAX_ATTEMPTS);
    }
    // With maxBatch 1 and the registry's media type, the receiver gets the registry's bytes.
    for (const name of ["healthy", "flaky"]) {
      for (const arrival of receivers[name].arrivals) {
        const sent = run.byId.get(arrival.ids[0]);
        assert.equal(arrival.ids.length, 1, `${name}: one event per POST`);
        assert.equal(arrival.body, sent.body, `${name}: bytes of #${sent.k}`);
      }
    }
  });

  it("keeps order: acceptance order on FIFO endpoints, per repository (and partition) when partitioned", () => {
    for (const name of ["healthy", "flaky"]) {
      const order = receivers[name].firstArrivalOrder();
      assert.equal(happenedBeforeViolation(order, run.byId), null, `${name}: FIFO order`);
      assert.equal(repositoryOrderViolation(order, run.byId), null, `${name}: repository order`);
    }
    const order = receivers.partitioned.firstArrivalOrder();
    assert.equal(repositoryOrderViolation(order, run.byId), null, "partitioned: repository order");
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const inPartition = order.filter(
        (id) => partitionOf(run.byId.get(id).repository, PARTITIONS) === partition,
      );
      assert.ok(inPartition.length > 0, `partition ${partition} got events`);
      assert.equal(
        happenedBeforeViolation(inPartition, run.byId),
        null,
        `partitioned: FIFO order inside partition ${partition}`,
      );
    }
  });

  it("sends an event again only after a failed attempt: duplicates bounded by injected resets", () => {
    for (const name of ["healthy", "partitioned", "flaky"]) {
      const t = tally(name);
      // A 2xx answer is final: an id POSTed again after one is a relay duplicate. Only an
      // attempt the relay itself saw fail (a timeout it counted as an error) can explain one.
      const uninjectedErrors = Math.max(
        0,
        (t.endpoint.metrics.errors ?? 0) - t.receiver.injected.reset,
      );
      assert.ok(
        t.againAfterSuccess <= uninjectedErrors,
        `${name}: ${t.againAfterSuccess} POSTs of an id already answered 2xx (relay errors not injected: ${uninjectedErrors}, relay reloads: ${run.reloads}): ${t.repeats.join("; ")}; relay log: ${run.logFile}`,
      );
      assert.ok(t.againAfterReset <= t.receiver.injected.reset, `${name}: after resets`);
      // Every POST is explained: one success per delivered id plus one per failed attempt.
      const failedAttempts = t.receiver.injected.reset + t.receiver.injected["500"];
      const postsPerEvent = t.receiver.arrivals.reduce((n, a) => n + a.ids.length, 0);
      assert.ok(
        postsPerEvent - (t.delivered.size + failedAttempts) <= uninjectedErrors,
        `${name}: ${postsPerEvent} event POSTs, ${t.delivered.size} delivered, ${failedAttempts} failed attempts`,
      );
    }
  });
});

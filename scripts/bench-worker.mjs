#!/usr/bin/env node
// `npm run bench:worker`: the relay Worker in the local runtime (Miniflare/workerd, the engine
// under `wrangler dev`), loopback only, in one bounded run:
//   1. GET /healthz and POST /v1/events (one endpoint) under the same load: requests/s, p50/p99
//      and the ingest/healthz throughput ratio;
//   2. the drain of that backlog to a local receiver (events/s);
//   3. ingest-to-receipt latency p50/p99 for single events posted one at a time.
// Options: --requests=3000 (per route) --concurrency=16 --rounds=6 (the two routes alternate in
// rounds, so both see the same background load) --latency-samples=200 --time-limit=240 (s).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { pushFixture } from "../test/fixtures/paths.mjs";
import { bundleWorker } from "./bundle-worker.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((arg) => /^--([\w-]+)=(.*)$/.exec(arg))
    .filter(Boolean)
    .map(([, key, value]) => [key, Number(value)]),
);
const requests = args.requests ?? 3000;
const concurrency = args.concurrency ?? 16;
const latencySamples = args["latency-samples"] ?? 200;
const rounds = args.rounds ?? 6;
const timeLimitSeconds = args["time-limit"] ?? 240;
const ingestToken = "bench-ingest-token";
const mediaType = "application/vnd.docker.distribution.events.v1+json";

const hardStop = setTimeout(() => {
  console.error(`bench-worker: hard time limit of ${timeLimitSeconds} s reached; aborting`);
  process.exit(2);
}, timeLimitSeconds * 1000);
hardStop.unref();

const percentile = (sorted, p) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (value) => `${value.toFixed(2)} ms`;

/** A fixture envelope (a registry's manifest push) whose event id we replace per request. */
async function template() {
  try {
    return JSON.parse(await readFile(pushFixture, "utf8"));
  } catch {
    return {
      events: [
        {
          id: "x",
          timestamp: "2026-11-27T10:00:00.123456789Z",
          action: "push",
          target: {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            size: 1234,
            digest: "sha256:3e0ad3a67c04",
            repository: "bench/app",
            tag: "v1",
          },
        },
      ],
    };
  }
}

/** The local endpoint: records when each event id arrives. */
function startReceiver() {
  const received = new Map();
  const waiters = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const at = performance.now();
      try {
        for (const event of JSON.parse(Buffer.concat(chunks).toString("utf8")).events ?? []) {
          if (!received.has(event.id)) received.set(event.id, at);
          waiters.get(event.id)?.(at);
          waiters.delete(event.id);
        }
      } catch {
        // not an envelope: ignore
      }
      res.writeHead(200);
      res.end();
    });
  });
  server.keepAliveTimeout = 10_000;
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () =>
      done({
        url: `http://127.0.0.1:${server.address().port}/events`,
        received,
        /** Resolves with the receipt time of `id` (or null after `timeoutMs`). */
        arrival(id, timeoutMs) {
          if (received.has(id)) return Promise.resolve(received.get(id));
          return new Promise((resolveArrival) => {
            const timer = setTimeout(() => {
              waiters.delete(id);
              resolveArrival(null);
            }, timeoutMs);
            waiters.set(id, (at) => {
              clearTimeout(timer);
              resolveArrival(at);
            });
          });
        },
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/** `total` requests from `concurrency` workers; returns latencies (ms) and wall time. */
async function load(total, makeRequest, expectStatus) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        const [url, init] = makeRequest();
        const t0 = performance.now();
        const response = await fetch(url, init);
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status !== expectStatus) failures += 1;
      }
    }),
  );
  return { latencies, failures, wallMs: performance.now() - started };
}

/** Sums rounds of {@link load} into requests/s and p50/p99. */
function summary(results) {
  const latencies = results.flatMap((result) => result.latencies).sort((a, b) => a - b);
  const wallMs = results.reduce((total, result) => total + result.wallMs, 0);
  return {
    rps: (latencies.length / wallMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures: results.reduce((total, result) => total + result.failures, 0),
  };
}

const work = await mkdtemp(join(tmpdir(), "relay-bench-"));
const receiver = await startReceiver();
let mf;
try {
  const bundle = join(work, "worker.js");
  await bundleWorker(bundle);
  mf = new Miniflare({
    modules: true,
    scriptPath: bundle,
    modulesRoot: work,
    cf: false, // no request.cf download (loopback only)
    compatibilityDate: "2026-04-01",
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    durableObjects: { ENDPOINT_QUEUE: { className: "EndpointQueue", useSQLite: true } },
    durableObjectsPersist: join(work, "do"),
    bindings: {
      RELAY_ENDPOINTS: JSON.stringify([{ name: "bench", url: receiver.url, timeout: "2s" }]),
      RELAY_INGEST_TOKENS: ingestToken,
      RELAY_ADMIN_TOKEN: "bench-admin-token",
    },
  });
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const envelope = await template();
  let sequence = 0;
  const ingestRequest = (id = `bench-${process.pid}-${++sequence}`) => {
    envelope.events[0].id = id;
    return [
      `${base}/v1/events`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${ingestToken}`, "content-type": mediaType },
        body: JSON.stringify(envelope, null, 3),
      },
    ];
  };
  const healthRequest = () => [`${base}/healthz`, {}];

  // Warm-up: JIT, the Durable Object, SQLite, connection pools.
  await load(200, healthRequest, 200);
  await load(200, ingestRequest, 202);
  await new Promise((r) => setTimeout(r, 2000)); // let the warm-up events drain

  // Alternate rounds of the two routes so both see the same background load on this machine.
  const before = receiver.received.size;
  const drainStart = performance.now();
  const healthRounds = [];
  const ingestRounds = [];
  for (let round = 0; round < rounds; round++) {
    const share = Math.floor(requests / rounds) + (round < requests % rounds ? 1 : 0);
    healthRounds.push(await load(share, healthRequest, 200));
    ingestRounds.push(await load(share, ingestRequest, 202));
  }
  const healthz = summary(healthRounds);
  const ingest = summary(ingestRounds);
  const expected = before + requests;
  while (receiver.received.size < expected && performance.now() - drainStart < 120_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const drainMs = performance.now() - drainStart;
  const delivered = receiver.received.size - before;

  // Ingest-to-receipt, one event at a time on an idle queue: from sending the POST to the
  // receiver reading the delivery (often before the 202 has even reached the client).
  const sendToReceipt = [];
  let lost = 0;
  for (let i = 0; i < latencySamples; i++) {
    const id = `latency-${process.pid}-${i}`;
    const [url, init] = ingestRequest(id);
    const t0 = performance.now();
    const arrival = receiver.arrival(id, 5000);
    const response = await fetch(url, init);
    await response.arrayBuffer();
    const at = await arrival;
    if (response.status !== 202 || at === null) {
      lost += 1;
      continue;
    }
    sendToReceipt.push(at - t0);
  }
  sendToReceipt.sort((a, b) => a - b);
  const versionOf = async (name) =>
    JSON.parse(await readFile(join(root, "node_modules", name, "package.json"), "utf8")).version;

  const lines = [
    `registry-relay worker bench: miniflare ${await versionOf("miniflare")} (workerd, as under wrangler dev), loopback, node ${process.version}, ${requests} requests per route x concurrency ${concurrency}, ${rounds} alternating rounds`,
    `  GET /healthz      ${healthz.rps.toFixed(0).padStart(6)} req/s   p50 ${ms(healthz.p50)}   p99 ${ms(healthz.p99)}   non-200: ${healthz.failures}`,
    `  POST /v1/events   ${ingest.rps.toFixed(0).padStart(6)} req/s   p50 ${ms(ingest.p50)}   p99 ${ms(ingest.p99)}   non-202: ${ingest.failures}`,
    `  ingest / healthz throughput ratio: ${(ingest.rps / healthz.rps).toFixed(2)}x`,
    `  backlog drain: ${delivered}/${requests} delivered in ${(drainMs / 1000).toFixed(2)} s (${((delivered / drainMs) * 1000).toFixed(0)} events/s, maxBatch 1, one partition)`,
    `  ingest-to-receipt (${sendToReceipt.length} single events, idle queue): p50 ${ms(percentile(sendToReceipt, 50))}   p99 ${ms(percentile(sendToReceipt, 99))}${lost ? `   NOT RECEIVED: ${lost}` : ""}`,
    `  reproduce: npm run bench:worker -- --requests=${requests} --concurrency=${concurrency} --rounds=${rounds} --latency-samples=${latencySamples}`,
  ];
  console.log(lines.join("\n"));
  if (healthz.failures || ingest.failures || lost || delivered < requests) process.exitCode = 1;
} finally {
  await mf?.dispose();
  await receiver.close();
  await rm(work, { recursive: true, force: true });
  clearTimeout(hardStop);
}

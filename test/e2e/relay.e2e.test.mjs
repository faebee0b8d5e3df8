// End to end with a real registry: distribution 2.8.2 (Debian docker-registry) → relay
// (`wrangler dev`, persisted) → two local receivers, driven by a real client (skopeo) and curl-like
// fetches, with faults on every hop. Run: npm run test:e2e
//
// What counts as the truth, so the test cannot agree with itself by construction:
// - the registry itself: besides the relay, it has two more endpoints of its own pointing
//   straight at a capture receiver, one unfiltered and one with the same ignore rules as the
//   relay's filtered endpoint. Those give the events, their order, their bytes and the
//   registry's own filter result;
// - its expvar counters (`/debug/vars`): Successes toward the relay must equal the distinct
//   events seen, and every queue must be empty;
// - the wire: a pass-through proxy records what the registry sent the relay and what the relay
//   answered (and holds answers back for the slow-relay scenario).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { buildImage } from "./build-image.mjs";
import { loadCoreWebhooks } from "./core.mjs";
import { freePort, killAll, run, sleep, waitFor } from "./procs.mjs";
import { startProxy } from "./proxy.mjs";
import { header, startReceiver } from "./receiver.mjs";
import { ensureRegistryTools, startRegistry } from "./registry.mjs";
import { relayEndpoints, startRelay } from "./relay.mjs";

const BLOB_MEDIA_TYPE = "application/octet-stream";
const IGNORE = { mediatypes: [BLOB_MEDIA_TYPE], actions: ["pull"] };
/** The registry's endpoint timeout toward the relay (set low for the slow-relay scenario). */
const REGISTRY_TIMEOUT_MS = 1000;
/** The relay's endpoint timeout toward the receivers. */
const RELAY_TIMEOUT_MS = 1000;
const SETTLE_TIMEOUT_MS = 30_000;

const ctx = {
  /** Observations for docs/registries.md, printed at the end. */
  observed: {},
};

// ------------------------------------------------------------------ event bookkeeping

function eventsOf(record) {
  const envelope = JSON.parse(record.body.toString("utf8"));
  if (!Array.isArray(envelope?.events)) throw new Error("body has no events array");
  return envelope.events;
}

/** Distinct events of `records` in first-arrival order, with the first record of each. */
function distinct(records) {
  const ids = [];
  const byId = new Map();
  const copies = new Map();
  for (const record of records) {
    let events;
    try {
      events = eventsOf(record);
    } catch (error) {
      throw new Error(`request #${record.seq} (${record.path}) is not an envelope: ${error}`);
    }
    for (const event of events) {
      copies.set(event.id, (copies.get(event.id) ?? 0) + 1);
      if (byId.has(event.id)) continue;
      ids.push(event.id);
      byId.set(event.id, { event, record, batch: events.length });
    }
  }
  return { ids, byId, copies };
}

const passesIgnore = (event) =>
  !IGNORE.actions.includes(event.action) && !IGNORE.mediatypes.includes(event.target?.mediaType);

/** What the registry emitted, from its own direct endpoints. */
function registryTruth() {
  const captured = ctx.capture.records;
  return {
    all: distinct(captured.filter((r) => r.path === "/registry/all")),
    filtered: distinct(captured.filter((r) => r.path === "/registry/filtered")),
  };
}

const receivers = () => [
  { name: "all", receiver: ctx.recvAll, expected: (truth) => truth.all },
  { name: "filtered", receiver: ctx.recvFiltered, expected: (truth) => truth.filtered },
];

function describeEvent(entry) {
  const { event } = entry;
  const t = event.target ?? {};
  return `${event.action} ${t.repository ?? "?"} ${t.mediaType ?? "-"} ${t.tag ?? ""}`.trim();
}

function missingAt(name, receiver, expected) {
  const got = distinct(receiver.records.filter((r) => r.answered === 200));
  return expected.ids
    .filter((id) => !got.byId.has(id))
    .map((id) => ({
      endpoint: name,
      id,
      what: describeEvent(expected.byId.get(id)),
    }));
}

/** Waits until the registry's queues are empty and every receiver has every event (200). */
async function settle() {
  await ctx.registry.drained(SETTLE_TIMEOUT_MS);
  try {
    await waitFor(
      "every emitted event at every receiver",
      () => {
        const truth = registryTruth();
        return receivers().every(
          ({ name, receiver, expected }) => missingAt(name, receiver, expected(truth)).length === 0,
        );
      },
      { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 100 },
    );
  } catch (error) {
    const truth = registryTruth();
    const missing = receivers().flatMap(({ name, receiver, expected }) =>
      missingAt(name, receiver, expected(truth)),
    );
    const relay = await relayEndpoints(ctx.relay.base, ctx.adminToken);
    throw new Error(
      `${error.message}\nmissing: ${JSON.stringify(missing.slice(0, 10))}\nrelay /v1/endpoints: ${JSON.stringify(relay).slice(0, 3000)}`,
    );
  }
  // Anything else that would arrive (duplicates, strays) gets a moment to show up.
  await sleep(500);
}

const verified = new WeakSet();
const verifiers = () => ({
  core: (record) =>
    ctx.core.verifyWebhook({
      secret: ctx.webhookSecret,
      headers: {
        "webhook-id": header(record.headers, "webhook-id"),
        "webhook-timestamp": header(record.headers, "webhook-timestamp"),
        "webhook-signature": header(record.headers, "webhook-signature"),
      },
      body: new Uint8Array(record.body),
      now: new Date(record.at), // judged at receipt time, however long the run takes
    }),
  reference: (record) =>
    new Webhook(ctx.webhookSecret).verify(record.body.toString("utf8"), {
      "webhook-id": header(record.headers, "webhook-id"),
      "webhook-timestamp": header(record.headers, "webhook-timestamp"),
      "webhook-signature": header(record.headers, "webhook-signature"),
    }),
});

/**
 * The per-endpoint invariants over everything received so far. Returns counts for the report.
 */
async function checkDelivery() {
  const truth = registryTruth();
  const stats = {};

  // The registry's own filter agrees with the documented rule (blob events carry
  // application/octet-stream; deletes have no media type and pass).
  assert.deepEqual(
    truth.filtered.ids,
    truth.all.ids.filter((id) => passesIgnore(truth.all.byId.get(id).event)),
    "the registry's filtered endpoint = its events minus pulls and blob events",
  );

  // The wire toward the relay carried the same events, bytes and order as the direct endpoint.
  const sent = distinct(ctx.proxy.records);
  assert.deepEqual(sent.ids, truth.all.ids, "events the registry sent the relay = registry events");
  for (const id of sent.ids) {
    assert.ok(
      sent.byId.get(id).record.body.equals(truth.all.byId.get(id).record.body),
      `registry bytes toward the relay and toward its capture endpoint differ for ${id}`,
    );
  }

  for (const { name, receiver, expected } of receivers()) {
    const want = expected(truth);
    const got = distinct(receiver.records);
    const strays = got.ids.filter((id) => !want.byId.has(id));
    assert.deepEqual(
      strays.map((id) => describeEvent(got.byId.get(id))),
      [],
      `${name}: received events the registry did not emit for this endpoint`,
    );
    assert.deepEqual(
      missingAt(name, receiver, want),
      [],
      `${name}: registry events never delivered`,
    );
    assert.deepEqual(got.ids, want.ids, `${name}: first-arrival order = the registry's order`);

    // Accepted by the receiver (200 on a live connection) at most once per event.
    const acknowledged = new Map();
    for (const record of receiver.records.filter((r) => r.answered === 200)) {
      for (const event of eventsOf(record)) {
        acknowledged.set(event.id, (acknowledged.get(event.id) ?? 0) + 1);
      }
    }
    const twice = [...acknowledged].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], `${name}: an event was delivered again after a 2xx`);

    for (const record of receiver.records) {
      assert.equal(
        header(record.headers, "authorization"),
        null,
        `${name}: the registry's ingest Authorization header leaked to the receiver`,
      );
      const raw = record.headers.join("\n");
      assert.ok(!raw.includes(ctx.ingestToken), `${name}: ingest token in receiver headers`);
      for (const event of eventsOf(record)) {
        assert.deepEqual(
          event,
          want.byId.get(event.id).event,
          `${name}: event ${event.id} differs from what the registry emitted`,
        );
      }
    }
    stats[name] = {
      events: got.ids.length,
      requests: receiver.records.length,
      redelivered: [...got.copies.values()].reduce((n, c) => n + c - 1, 0),
    };
  }

  // Unfiltered endpoint: the registry's own bytes and media type, one event per request.
  for (const record of ctx.recvAll.records) {
    const events = eventsOf(record);
    assert.equal(events.length, 1, "all: one event per request (default maxBatch 1)");
    const original = truth.all.byId.get(events[0].id).record;
    assert.equal(record.contentType, original.contentType, "all: the registry's media type");
    assert.ok(
      record.body.equals(original.body),
      `all: body of ${events[0].id} is not the registry's bytes`,
    );
    assert.equal(header(record.headers, "webhook-signature"), null, "all: no secret, no signature");
  }

  // Filtered endpoint: every request signed (Standard Webhooks), verified by the core and by the
  // reference implementation; the webhook-id is stable across redeliveries of an event.
  const verify = verifiers();
  const webhookIds = new Map();
  for (const record of ctx.recvFiltered.records) {
    if (!verified.has(record)) {
      // Checked once, at the end of the record's own scenario (well within the 5 min tolerance
      // of the reference implementation, which always compares with the current time).
      await verify.core(record);
      verify.reference(record);
      verified.add(record);
    }
    const webhookId = header(record.headers, "webhook-id");
    for (const event of eventsOf(record)) {
      const seen = webhookIds.get(event.id);
      if (seen !== undefined)
        assert.equal(webhookId, seen, "filtered: webhook-id changed on retry");
      webhookIds.set(event.id, webhookId);
    }
  }
  return stats;
}

/** Positions in every record list, to look at one phase only. */
function mark() {
  return {
    at: Date.now(),
    proxy: ctx.proxy.records.length,
    all: ctx.recvAll.records.length,
    filtered: ctx.recvFiltered.records.length,
    capture: ctx.capture.records.length,
  };
}
const since = (m) => ({
  proxy: ctx.proxy.records.slice(m.proxy),
  all: ctx.recvAll.records.slice(m.all),
  filtered: ctx.recvFiltered.records.slice(m.filtered),
  capture: ctx.capture.records.slice(m.capture),
});

// ------------------------------------------------------------------ clients

async function skopeo(...args) {
  const result = await run("skopeo", ["--tmpdir", ctx.skopeoTmp, ...args], { timeoutMs: 120_000 });
  if (result.code !== 0) {
    throw new Error(
      `skopeo ${args.join(" ")} exited ${result.code}: ${result.stderr.slice(-1500)}`,
    );
  }
  return result;
}
const push = (tag, ref, ...flags) =>
  skopeo(
    "copy",
    ...flags,
    "--dest-tls-verify=false",
    `oci:${ctx.layout}:${tag}`,
    `docker://${ctx.registry.host}/${ref}`,
  );

async function registryFetch(method, path, headers = {}) {
  const res = await fetch(`${ctx.registry.base}${path}`, { method, headers, redirect: "manual" });
  await res.arrayBuffer();
  return res.status;
}

/** A GET to the registry with headers written byte for byte (latin1), for values fetch refuses. */
function rawGet(path, headers) {
  return new Promise((done, fail) => {
    const request = httpGet(`${ctx.registry.base}${path}`, { headers }, (response) => {
      response.resume();
      response.on("end", () => done(response.statusCode));
    });
    request.on("error", fail);
  });
}

/** Every request every peer saw, one JSON line each (kept with the logs when a run fails). */
function requestLog() {
  const sources = {
    "registry→relay": ctx.proxy?.records ?? [],
    "relay→all": ctx.recvAll?.records ?? [],
    "relay→filtered": ctx.recvFiltered?.records ?? [],
    "registry→capture": ctx.capture?.records ?? [],
  };
  const lines = [];
  for (const [source, records] of Object.entries(sources)) {
    for (const r of records) {
      let events = [];
      try {
        events = eventsOf(r).map((e) => ({ id: e.id, what: describeEvent({ event: e }) }));
      } catch {}
      const { body: _body, headers: _headers, ...rest } = r;
      lines.push(JSON.stringify({ source, ...rest, events }));
    }
  }
  return `${lines.join("\n")}\n`;
}

// ------------------------------------------------------------------ setup / teardown

async function relayOptions() {
  return {
    port: ctx.relayPort,
    inspectorPort: ctx.inspectorPort,
    persistDir: ctx.persistDir,
    logFile: join(ctx.dir, "relay.log"),
    vars: ctx.relayVars,
    timeoutMs: 120_000,
  };
}

async function restartRelay() {
  ctx.relay = await startRelay(await relayOptions());
  ctx.observed.relayStartsMs.push(ctx.relay.startMs);
}

before(setup, { timeout: 300_000 });

async function setup() {
  ctx.failed = true; // until setup completes
  const installed = await ensureRegistryTools();
  if (installed.length > 0) console.log(`# installed ${installed.join(", ")}`);
  ctx.dir = await mkdtemp(join(tmpdir(), "registry-relay-e2e-"));
  ctx.skopeoTmp = join(ctx.dir, "skopeo-tmp");
  ctx.persistDir = join(ctx.dir, "relay-state");
  await mkdir(ctx.skopeoTmp, { recursive: true });
  ctx.layout = join(ctx.dir, "layout");
  ctx.image = await buildImage(ctx.layout);
  ctx.core = await loadCoreWebhooks(ctx.dir);

  ctx.ingestToken = `ingest-${randomBytes(12).toString("hex")}`;
  ctx.adminToken = `admin-${randomBytes(12).toString("hex")}`;
  ctx.webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;

  ctx.recvAll = await startReceiver({ name: "all" });
  ctx.recvFiltered = await startReceiver({ name: "filtered" });
  ctx.capture = await startReceiver({ name: "capture" });

  const taken = new Set([ctx.recvAll.port, ctx.recvFiltered.port, ctx.capture.port]);
  ctx.relayPort = await freePort(taken);
  ctx.inspectorPort = await freePort(taken);
  ctx.proxy = await startProxy({ upstreamPort: () => ctx.relayPort });

  const relayEndpoint = { timeout: `${RELAY_TIMEOUT_MS}ms`, threshold: 3, backoff: "250ms" };
  ctx.relayVars = {
    RELAY_ENDPOINTS: JSON.stringify([
      { name: "all", url: ctx.recvAll.url("/hook"), ...relayEndpoint },
      {
        name: "filtered",
        url: ctx.recvFiltered.url("/hook"),
        secret: ctx.webhookSecret,
        ignore: IGNORE,
        ...relayEndpoint,
      },
    ]),
    RELAY_INGEST_TOKENS: ctx.ingestToken,
    RELAY_ADMIN_TOKEN: ctx.adminToken,
  };
  ctx.observed.relayStartsMs = [];
  await restartRelay();

  const direct = { timeout: "2s", threshold: 3, backoff: "500ms" };
  // The registry's ports are picked last and retried: a port found free can be taken before
  // the registry binds it (workerd, started just before, opens ports of its own).
  for (let attempt = 1; ; attempt++) {
    try {
      ctx.registry = await startRegistryOnFreePorts(taken, direct);
      break;
    } catch (error) {
      const log = await readFile(join(ctx.dir, "registry.log"), "utf8").catch(() => "");
      if (attempt >= 3 || !log.includes("address already in use")) throw error;
    }
  }
  ctx.failed = false;
}

/** Starts the registry on two ports found free now (its API, and expvar's debug server). */
async function startRegistryOnFreePorts(taken, direct) {
  return startRegistry({
    dir: ctx.dir,
    storage: join(ctx.dir, "storage"),
    port: await freePort(taken),
    debugPort: await freePort(taken),
    endpoints: [
      {
        name: "relay",
        url: `http://127.0.0.1:${ctx.proxy.port}/v1/events`,
        headers: { Authorization: `Bearer ${ctx.ingestToken}` },
        timeout: `${REGISTRY_TIMEOUT_MS}ms`,
        threshold: 3,
        backoff: "500ms",
      },
      { name: "capture-all", url: ctx.capture.url("/registry/all"), ...direct },
      {
        name: "capture-filtered",
        url: ctx.capture.url("/registry/filtered"),
        ignore: IGNORE,
        ...direct,
      },
    ],
  });
}

after(async () => {
  const failed = ctx.failed;
  await ctx.registry?.proc.stop("SIGTERM", 3000);
  await ctx.relay?.proc.stop("SIGTERM", 5000);
  killAll();
  await Promise.allSettled([
    ctx.proxy?.close(),
    ctx.recvAll?.stop(),
    ctx.recvFiltered?.stop(),
    ctx.capture?.stop(),
  ]);
  console.log(`# observed: ${JSON.stringify(ctx.observed)}`);
  if (ctx.dir) await writeFile(join(ctx.dir, "requests.jsonl"), requestLog()).catch(() => {});
  if (ctx.dir && !failed && !process.env.E2E_KEEP)
    await rm(ctx.dir, { recursive: true, force: true });
  else if (ctx.dir) console.log(`# kept ${ctx.dir} (registry.log, relay.log)`);
});

// ------------------------------------------------------------------ the run

/** One scenario; a failure keeps the run's temp dir (logs) for a look. */
function scenario(name, fn) {
  it(name, { timeout: 180_000 }, async () => {
    try {
      await fn();
    } catch (error) {
      ctx.failed = true;
      throw error;
    }
  });
}

describe("distribution 2.8 → relay → receivers", { concurrency: false }, () => {
  scenario("real client operations reach both endpoints exactly once, in order", async () => {
    const { v1, v2 } = ctx.image;
    await push("v1", "e2e/alpha:v1");
    await push("v2", "e2e/alpha:v2");
    await push("v2", "e2e/beta:docker", "--format", "v2s2");
    await push("v1", "e2e/gamma:v1");
    // An explicit cross-repository mount (skopeo mounts on its own too, from its blob cache).
    const mounted = await registryFetch(
      "POST",
      `/v2/e2e/delta/blobs/uploads/?mount=${v2.layers[1]}&from=e2e/alpha`,
    );
    assert.equal(mounted, 201, "cross-repository mount answered 201 Created");
    await push("multi", "e2e/multi:v1", "--all");
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      `docker://${ctx.registry.host}/e2e/alpha:v1`,
      `dir:${join(ctx.dir, "pulled-alpha-v1")}`,
    );
    const oci = { accept: "application/vnd.oci.image.manifest.v1+json" };
    assert.equal(await registryFetch("HEAD", "/v2/e2e/alpha/manifests/v1", oci), 200);
    assert.equal(await registryFetch("HEAD", `/v2/e2e/alpha/blobs/${v1.layers[0]}`), 200);
    await skopeo(
      "delete",
      "--tls-verify=false",
      `docker://${ctx.registry.host}/e2e/alpha@${v1.manifest}`,
    );
    assert.equal(await registryFetch("DELETE", `/v2/e2e/alpha/blobs/${v1.config}`), 202);
    await settle();

    const truth = registryTruth();
    const events = truth.all.ids.map((id) => truth.all.byId.get(id).event);
    const kinds = new Set(events.map((e) => `${e.action}:${e.target?.mediaType ?? ""}`));
    for (const kind of [
      "push:application/vnd.oci.image.manifest.v1+json",
      "push:application/vnd.docker.distribution.manifest.v2+json",
      "push:application/vnd.oci.image.index.v1+json",
      `mount:${BLOB_MEDIA_TYPE}`,
      `pull:${BLOB_MEDIA_TYPE}`,
      "pull:application/vnd.oci.image.manifest.v1+json",
      "delete:",
    ]) {
      assert.ok(kinds.has(kind), `the operations produced a ${kind} event`);
    }
    const deletes = truth.filtered.ids.map((id) => truth.filtered.byId.get(id).event);
    assert.ok(
      deletes.some((e) => e.action === "delete" && e.target.tag === "v1"),
      "filtered endpoint expects the tag delete",
    );
    assert.ok(
      deletes.some((e) => e.action === "delete" && e.target.digest === v1.config),
      "filtered endpoint expects the blob delete",
    );
    ctx.observed.operations = { events: events.length, filtered: truth.filtered.ids.length };
    ctx.observed.operations.delivery = await checkDelivery();
  });

  scenario(
    "a User-Agent with raw 0xFF bytes: the receiver gets the registry's own bytes",
    async () => {
      const m = mark();
      // Node writes header strings as latin1: "\xff\xfe" go out as the bytes FF FE, invalid UTF-8.
      const agent = "e2e-raw/1.0 \xff\xfe <x> & y";
      const status = await rawGet("/v2/e2e/alpha/manifests/v2", {
        "user-agent": agent,
        accept: "application/vnd.oci.image.manifest.v1+json",
      });
      assert.equal(status, 200, "the manifest pull answered 200");
      await settle();
      const isOurs = (event) => event.request?.useragent?.startsWith("e2e-raw/1.0 ");
      const direct = since(m).capture.filter(
        (r) => r.path === "/registry/all" && eventsOf(r).some(isOurs),
      );
      assert.equal(direct.length, 1, "the registry emitted the pull once, to its capture endpoint");
      const sent = direct[0].body;
      // Go writes each invalid byte as the escape \ufffd, and escapes <, > and &.
      const escaped = String.raw`"useragent": "e2e-raw/1.0 \ufffd\ufffd \u003cx\u003e \u0026 y"`;
      assert.ok(sent.includes(escaped), `the registry's bytes carry Go's escapes: ${sent}`);
      const [event] = eventsOf(direct[0]);
      const relayed = since(m).all.filter((r) => eventsOf(r).some((e) => e.id === event.id));
      assert.ok(relayed.length >= 1, "the relay delivered the pull");
      for (const record of relayed) {
        assert.ok(
          record.body.equals(sent),
          `relayed bytes differ from the registry's:\n${record.body}\nvs\n${sent}`,
        );
      }
      ctx.observed.rawUserAgent = { bytes: sent.length, relayed: relayed.length };
      await checkDelivery();
    },
  );

  scenario("receiver answers 500 for a while, then recovers: nothing lost", async () => {
    const m = mark();
    ctx.recvAll.failFor(3000, 500);
    ctx.recvFiltered.failFor(3000, 500);
    await push("v2", "e2e/retry-a:v2");
    await settle();
    const phase = since(m);
    for (const name of ["all", "filtered"]) {
      const failed = phase[name].filter((r) => r.answered === 500).length;
      assert.ok(failed >= 2, `${name}: the relay met the 500s (${failed}) and retried`);
    }
    ctx.observed.fail500 = {
      attemptsAll: phase.all.length,
      failedAll: phase.all.filter((r) => r.answered === 500).length,
      deliveredAfterMs: Math.max(...phase.all.map((r) => r.at)) - m.at,
    };
    await checkDelivery();
  });

  scenario("receiver down (connection refused) for ~10 s: nothing lost", async () => {
    const m = mark();
    await ctx.recvAll.stop();
    await ctx.recvFiltered.stop();
    await push("v1", "e2e/retry-b:v1");
    await ctx.registry.drained(SETTLE_TIMEOUT_MS);
    const accepted = since(m).proxy.filter((r) => r.upstreamStatus === 202).length;
    assert.ok(accepted > 0, "the relay accepted events while the receivers were down");
    await sleep(10_000);
    const upAt = Date.now();
    await ctx.recvAll.start();
    await ctx.recvFiltered.start();
    await settle();
    const phase = since(m);
    assert.ok(phase.all.length > 0 && phase.all.every((r) => r.at >= upAt), "all: after restart");
    assert.ok(
      phase.filtered.every((r) => r.at >= upAt),
      "filtered: after restart",
    );
    ctx.observed.receiverDown = {
      firstDeliveryAfterUpMs: Math.min(...phase.all.map((r) => r.at)) - upAt,
    };
    await checkDelivery();
  });

  scenario("receiver hangs past the relay's timeout: retried, nothing lost", async () => {
    const m = mark();
    ctx.recvAll.holdNext(2, RELAY_TIMEOUT_MS + 2000);
    ctx.recvFiltered.holdNext(2, RELAY_TIMEOUT_MS + 2000);
    await push("v1", "e2e/hang:v1");
    await settle();
    const phase = since(m);
    for (const name of ["all", "filtered"]) {
      assert.equal(
        phase[name].filter((r) => r.answered === "held").length,
        2,
        `${name}: held twice`,
      );
    }
    ctx.recvAll.reset();
    ctx.recvFiltered.reset();
    await checkDelivery();
  });

  scenario("relay killed with SIGKILL mid-delivery resumes from its persisted state", async () => {
    const m = mark();
    // Every delivery attempt hangs, so when the relay dies, one is in flight and more wait.
    ctx.recvAll.holdNext(1000, 120_000);
    ctx.recvFiltered.holdNext(1000, 120_000);
    await push("v2", "e2e/kill:v2");
    await ctx.registry.drained(SETTLE_TIMEOUT_MS);
    await waitFor(
      "a delivery in flight at both receivers",
      () => ctx.recvAll.inFlight > 0 && ctx.recvFiltered.inFlight > 0,
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    const acceptedBeforeKill = distinct(since(m).proxy.filter((r) => r.upstreamStatus === 202));
    await ctx.relay.proc.stop("SIGKILL", 0);
    const killedAt = Date.now();
    ctx.recvAll.reset();
    ctx.recvFiltered.reset();
    assert.ok(acceptedBeforeKill.ids.length >= 3, "the relay had accepted the push's events");
    assert.equal(
      since(m).all.filter((r) => r.answered === 200).length,
      0,
      "nothing was acknowledged before the kill",
    );
    await sleep(1000);
    const proxyAtRestart = ctx.proxy.records.length;
    await restartRelay();
    // No registry traffic now: the relay must resume the persisted backlog on its own.
    await settle();
    assert.equal(ctx.proxy.records.length, proxyAtRestart, "the registry sent nothing meanwhile");
    const phase = since(m);
    ctx.observed.sigkill = {
      backlogAtKill: acceptedBeforeKill.ids.length,
      restartMs: ctx.relay.startMs,
      firstDeliveryAfterKillMs:
        Math.min(...phase.all.filter((r) => r.answered === 200).map((r) => r.at)) - killedAt,
    };
    await checkDelivery();
  });

  scenario("relay down while the registry sends: the registry retries, nothing lost", async () => {
    const m = mark();
    await ctx.relay.proc.stop("SIGKILL", 0);
    await push("v1", "e2e/relay-down:v1");
    await waitFor("the registry retrying toward the dead relay", () =>
      since(m).proxy.some((r) => r.upstreamError !== null),
    );
    await sleep(2000);
    await restartRelay();
    await settle();
    const attempts = since(m).proxy;
    const refused = attempts.filter((r) => r.upstreamError !== null);
    assert.ok(refused.length > 0, "the registry met the dead relay");
    // The registry's retry rhythm for its first event (same body each time).
    const first = attempts.filter((r) => r.body.equals(attempts[0].body));
    ctx.observed.relayDown = {
      refusedAttempts: refused.length,
      firstEventAttemptGapsMs: first.slice(1).map((r, i) => r.at - first[i].at),
    };
    await checkDelivery();
  });

  scenario(
    "relay answers slower than the registry's timeout: resends are not delivered twice",
    async () => {
      const m = mark();
      ctx.proxy.delayNext(2, REGISTRY_TIMEOUT_MS + 1000);
      await push("v1", "e2e/slow:v1");
      await settle();
      const phase = since(m);
      const posts = new Map();
      for (const record of phase.proxy) {
        for (const event of eventsOf(record))
          posts.set(event.id, [...(posts.get(event.id) ?? []), record]);
      }
      const resent = [...posts.values()].filter((list) => list.length > 1);
      assert.ok(resent.length > 0, "the registry resent after its timeout");
      const answeredDuplicates = phase.proxy.some((r) =>
        JSON.parse(r.upstreamBody ?? "{}").endpoints?.some((e) => e.duplicates > 0),
      );
      assert.ok(answeredDuplicates, "the relay recognised the resends as duplicates");
      for (const name of ["all", "filtered"]) {
        const copies = distinct(phase[name]).copies;
        const dup = [...copies].filter(([, n]) => n > 1);
        assert.deepEqual(dup, [], `${name}: a resent event reached the receiver twice`);
      }
      ctx.observed.slowRelay = {
        resentEvents: resent.length,
        attemptGapsMs: resent.map((list) => list.slice(1).map((r, i) => r.at - list[i].at)),
      };
      await checkDelivery();
    },
  );

  scenario("the registry's expvar counts agree with what arrived", async () => {
    const vars = await ctx.registry.drained(SETTLE_TIMEOUT_MS);
    const truth = registryTruth();
    const relay = vars.relay.Metrics;
    const all = vars["capture-all"].Metrics;
    const filtered = vars["capture-filtered"].Metrics;
    const delivered = distinct(ctx.recvAll.records.filter((r) => r.answered === 200)).ids.length;
    const deliveredFiltered = distinct(ctx.recvFiltered.records.filter((r) => r.answered === 200))
      .ids.length;
    assert.equal(relay.Pending, 0);
    assert.equal(
      relay.Events,
      all.Events,
      "the relay endpoint and the capture endpoint saw the same",
    );
    assert.equal(relay.Successes, relay.Events, "one 2xx from the relay per registry event");
    assert.equal(delivered, relay.Successes, "all: distinct deliveries = registry Successes");
    assert.equal(all.Successes, truth.all.ids.length, "capture-all count = its expvar Successes");
    assert.equal(
      deliveredFiltered,
      filtered.Successes,
      "filtered: = registry's own filtered count",
    );
    // The relay's own 202 reports add up: each registry event queued once per endpoint it
    // matches, every resend reported as a duplicate or ignored, nothing else.
    const queued = { all: 0, filtered: 0 };
    for (const record of ctx.proxy.records.filter((r) => r.upstreamStatus === 202)) {
      for (const endpoint of JSON.parse(record.upstreamBody).endpoints) {
        queued[endpoint.name] += endpoint.queued;
      }
    }
    assert.deepEqual(
      queued,
      { all: truth.all.ids.length, filtered: truth.filtered.ids.length },
      "events queued by the relay (its 202 answers) = registry events per endpoint",
    );
    ctx.observed.expvar = { relay, captureAll: all, captureFiltered: filtered };
    ctx.observed.wire = {
      request: ctx.proxy.records[0].headers.filter((_, i) => i % 2 === 0),
      relayAnswerEncoding: ctx.proxy.records[0].upstreamEncoding,
    };
    await checkDelivery();
  });
});

// Runs examples/bun-emitter/emitter.ts under Bun: first against a local receiver (retry after a
// 503, dead letters on a 400, nothing listening, bad settings), then through the relay
// (`wrangler dev` on a free port with its own --persist-to directory) to a local receiver.
//   node --test examples/bun-emitter/
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort, startRelay } from "../../test/support/relay-process.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const bun = join(root, "node_modules/.bin/bun");

const running = new Set();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

/** Starts a command in its own process group (so its children go with it). */
function start(command, args, { env = {}, cwd = root } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child.pid);
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk) => {
    out.stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    out.stderr += chunk;
  });
  const exited = new Promise((done) =>
    child.once("close", (code, signal) => {
      running.delete(child.pid);
      done({ code, signal, ...out });
    }),
  );
  const stop = async () => {
    if (!running.has(child.pid)) return exited;
    process.kill(-child.pid, "SIGTERM");
    const force = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 5000);
    const result = await exited;
    clearTimeout(force);
    return result;
  };
  return { pid: child.pid, out, exited, stop };
}

/** Runs the emitter to completion (killed after `timeoutMs`). */
async function emit(url, env = {}, timeoutMs = 30_000) {
  const proc = start(bun, ["emitter.ts", url], { cwd: here, env });
  const timer = setTimeout(proc.stop, timeoutMs);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}

/** `queued <action> <ref> id=<id>` lines of the emitter, parsed. */
function queuedLines(stdout) {
  return [...stdout.matchAll(/^queued (\w+) (\S+) id=(\S+)$/gm)].map(([, action, ref, id]) => ({
    action,
    ref,
    id,
  }));
}

function metricsOf(stdout) {
  const line = stdout.split("\n").find((l) => l.startsWith("metrics "));
  assert.ok(line, `no metrics line in:\n${stdout}`);
  return JSON.parse(line.slice("metrics ".length));
}

/**
 * A receiver on 127.0.0.1 that answers the statuses of `plan` in turn (then 200) and records
 * every request: `{ authorization, contentType, events }`.
 */
async function startReceiver(plan = []) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      let events = [];
      try {
        events = JSON.parse(Buffer.concat(chunks).toString("utf8")).events;
      } catch {}
      requests.push({
        authorization: req.headers.authorization,
        contentType: req.headers["content-type"],
        events,
      });
      res.writeHead(plan[requests.length - 1] ?? 200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    url: `http://127.0.0.1:${server.address().port}/events`,
    requests,
    /** Events of the answered-2xx requests, in arrival order. */
    delivered: () =>
      requests.filter((_, i) => (plan[i] ?? 200) < 300).flatMap((request) => request.events),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(done);
      }),
  };
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The five events of a push of a two-layer image and a tag delete, checked field by field. */
function assertPushThenDelete(events, queued, { repository = "demo/hello", tag = "v1" } = {}) {
  assert.deepEqual(
    events.map((e) => e.id),
    queued.map((q) => q.id),
    "the receiver got the queued events, in order, once each",
  );
  assert.deepEqual(
    events.map((e) => e.action),
    ["push", "push", "push", "push", "delete"],
  );
  const blobs = events.slice(0, 3);
  for (const blob of blobs) {
    assert.equal(blob.target.mediaType, "application/octet-stream");
    assert.match(blob.target.digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(blob.target.size > 0);
    assert.equal(blob.target.length, blob.target.size);
    assert.equal(blob.target.repository, repository);
    assert.equal(
      blob.target.url,
      `http://registry.local:5000/v2/${repository}/blobs/${blob.target.digest}`,
    );
    assert.equal(blob.request.method, "PUT");
  }
  assert.equal(new Set(blobs.map((b) => b.target.digest)).size, 3, "config + 2 distinct layers");
  const manifest = events[3];
  assert.equal(manifest.target.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.equal(manifest.target.tag, tag);
  assert.match(manifest.target.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(
    manifest.target.url,
    `http://registry.local:5000/v2/${repository}/manifests/${manifest.target.digest}`,
  );
  assert.deepEqual(events[4].target, { repository, tag });
  assert.equal(events[4].request.method, "DELETE");
  assert.equal(new Set(events.map((e) => e.request.id)).size, 5, "one request record per request");
  assert.equal(new Set(events.map((e) => e.source.instanceID)).size, 1, "one registry instance");
  for (const event of events) {
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(event.actor.name, "bun-emitter");
  }
}

describe("bun-emitter against a local receiver", { timeout: 120_000 }, () => {
  it("delivers the five events in order with the bearer token, retrying a 503", async () => {
    const receiver = await startReceiver([503]);
    try {
      const result = await emit(receiver.url, {
        RELAY_INGEST_TOKEN: "ingest-secret",
        BACKOFF: "20ms",
      });
      assert.equal(result.code, 0, result.stderr);
      const queued = queuedLines(result.stdout);
      assert.equal(queued.length, 5);
      assert.equal(receiver.requests.length, 6, "5 events, one per POST, plus the retried one");
      assert.deepEqual(
        receiver.requests[0].events,
        receiver.requests[1].events,
        "same event retried",
      );
      assertPushThenDelete(receiver.delivered(), queued);
      for (const request of receiver.requests) {
        assert.equal(request.authorization, "Bearer ingest-secret");
        assert.equal(request.contentType, "application/vnd.docker.distribution.events.v1+json");
      }
      assert.deepEqual(metricsOf(result.stdout), {
        pending: 0,
        events: 5,
        successes: 5,
        failures: 1,
        errors: 0,
        statuses: { "503 Service Unavailable": 1, "200 OK": 5 },
      });
      assert.doesNotMatch(
        result.stdout + result.stderr,
        /ingest-secret/,
        "the token is never printed",
      );
    } finally {
      await receiver.close();
    }
  });

  it("exits 1 and names the dead letters when the receiver refuses them (400 is final)", async () => {
    const receiver = await startReceiver([200, 400, 200, 200, 400]);
    try {
      const result = await emit(receiver.url, {
        BACKOFF: "10ms",
        REPOSITORY: "team/app",
        TAG: "2.0",
      });
      assert.equal(result.code, 1);
      const queued = queuedLines(result.stdout);
      const dead = [
        ...result.stderr.matchAll(/^dead letter \(final after 1 attempt\(s\)\): (\w+) id=(\S+):/gm),
      ];
      assert.deepEqual(
        dead.map((match) => match[2]),
        [queued[1].id, queued[4].id],
      );
      assert.match(result.stderr, /2 of 5 event\(s\) dead-lettered/);
      assert.equal(receiver.requests.length, 5, "a final status is not retried");
      assert.deepEqual(metricsOf(result.stdout).statuses, { "200 OK": 3, "400 Bad Request": 2 });
      assert.equal(queued[3].ref.startsWith("team/app:2.0@sha256:"), true);
    } finally {
      await receiver.close();
    }
  });

  it("gives up after MAX_ATTEMPTS when nothing listens, and exits 1", async () => {
    const port = await freePort();
    const result = await emit(`http://127.0.0.1:${port}/events`, {
      MAX_ATTEMPTS: "2",
      BACKOFF: "5ms",
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.match(/^dead letter \(max-attempts after 2 attempt\(s\)\)/gm)?.length,
      5,
    );
    const metrics = metricsOf(result.stdout);
    assert.equal(metrics.errors, 10);
    assert.equal(metrics.successes, 0);
    assert.equal(metrics.pending, 0);
  });

  it("exits 2 with the reason for bad settings", async () => {
    const attempts = await emit("http://127.0.0.1:9/events", { MAX_ATTEMPTS: "0" });
    assert.equal(attempts.code, 2);
    assert.match(attempts.stderr, /MAX_ATTEMPTS must be an integer >= 1, got "0"/);
    const backoff = await emit("http://127.0.0.1:9/events", { BACKOFF: "soon" });
    assert.equal(backoff.code, 2);
    assert.match(backoff.stderr, /strategy\.base/);
    const url = await emit("ftp://127.0.0.1/events");
    assert.equal(url.code, 2);
    assert.match(url.stderr, /http or https/);
  });
});

describe("bun-emitter through the relay (wrangler dev)", { timeout: 180_000 }, () => {
  const ingestToken = "example-ingest-token";
  const adminToken = "example-admin-token";
  let receiver;
  let relay;
  let relayBase;
  let persistDir;

  before(async () => {
    // The relay's first delivery attempt gets a 503, so its own retry is exercised too.
    receiver = await startReceiver([503]);
    persistDir = mkdtempSync(join(tmpdir(), "bun-emitter-relay-"));
    const endpoints = [{ name: "example", url: receiver.url, timeout: "2s", backoff: "200ms" }];
    relay = await startRelay({
      persistDir,
      vars: {
        RELAY_ENDPOINTS: JSON.stringify(endpoints),
        RELAY_INGEST_TOKENS: ingestToken,
        RELAY_ADMIN_TOKEN: adminToken,
      },
      onSpawn: (pid, exited) => {
        running.add(pid);
        exited.then(() => running.delete(pid));
      },
    });
    relayBase = relay.url;
  });

  after(async () => {
    await relay?.stop();
    await receiver?.close();
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  it("the relay accepts the five events (202) and delivers them in order, once each", async () => {
    const result = await emit(`${relayBase}/v1/events`, {
      RELAY_INGEST_TOKEN: ingestToken,
      BACKOFF: "50ms",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(metricsOf(result.stdout).statuses, { "202 Accepted": 5 });
    const queued = queuedLines(result.stdout);
    await waitFor("5 events at the receiver", () => receiver.delivered().length >= 5, 30_000);
    // Give a duplicate delivery a chance to show up before asserting "once each".
    await new Promise((r) => setTimeout(r, 500));
    assertPushThenDelete(receiver.delivered(), queued);
    assert.equal(
      receiver.requests[0].authorization,
      undefined,
      "the relay does not forward tokens",
    );

    const endpoints = await fetch(`${relayBase}/v1/endpoints`, {
      headers: { authorization: `Bearer ${adminToken}` },
    }).then((response) => response.json());
    const example = endpoints.endpoints.find((endpoint) => endpoint.name === "example");
    assert.equal(example.depth, 0);
    assert.equal(example.deadLetters, 0);
    assert.equal(example.metrics.successes, 5);
    assert.equal(example.metrics.statuses["503 Service Unavailable"], 1);
  });

  it("the relay refuses the emitter without the ingest token, and the emitter exits 1", async () => {
    const result = await emit(`${relayBase}/v1/events`, { BACKOFF: "10ms" });
    assert.equal(result.code, 1);
    assert.deepEqual(metricsOf(result.stdout).statuses, { "401 Unauthorized": 5 });
  });
});

// Runs examples/deno-receiver/main.ts under `deno run` (net limited to 127.0.0.1, env limited to
// its three variables) and posts real distribution 2.8.2 envelopes to it: unsigned with a bearer
// token, Standard Webhooks-signed (signed here with the independent `standardwebhooks` package),
// badly signed, stale, tampered and malformed. Asserts status codes and the printed lines.
//   node --test examples/deno-receiver/
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import standardwebhooks from "standardwebhooks";
import { distributionFixturesDir } from "../../test/fixtures/paths.mjs";
import { startRelay } from "../../test/support/relay-process.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const deno = join(root, "node_modules/.bin/deno");
const fixturesDir = distributionFixturesDir;
const secret = `whsec_${Buffer.from("deno-receiver-test-signing-key-0123456789").toString("base64")}`;
const otherSecret = `whsec_${Buffer.from("some-other-signing-key-0123456789abcdef").toString("base64")}`;

/** A fixture: its raw body and the registry's request headers (lower-cased names). */
function fixture(prefix) {
  const names = readFileSync(join(fixturesDir, "INDEX.md"), "utf8").match(/\d{3}-[^\s|]+\.json/g);
  const name = names.find((n) => n.startsWith(prefix));
  assert.ok(name, `fixture ${prefix} not found in ${fixturesDir}`);
  const body = readFileSync(join(fixturesDir, name), "utf8");
  const headers = {};
  const raw = readFileSync(join(fixturesDir, name.replace(/\.json$/, ".headers")), "utf8");
  for (const line of raw.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { name, body, headers, events: JSON.parse(body).events };
}

/** The line main.ts prints for an event, computed independently from the fixture JSON. */
function expectedLine(event) {
  const { repository, tag, digest } = event.target;
  return `${event.action} ${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""} id=${event.id}`;
}

const running = new Set();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

/** Starts the receiver on a free port; resolves once it printed its listening line. */
function startReceiver(env = {}, { args = ["--port", "0"], waitForListen = true } = {}) {
  const child = spawn(
    deno,
    [
      "run",
      "--no-lock",
      "--allow-net=127.0.0.1",
      "--allow-env=PORT,RECEIVER_TOKENS,WEBHOOK_SECRET",
      "main.ts",
      ...args,
    ],
    {
      cwd: here,
      // Only what Deno itself needs (PATH, HOME for its cache) plus the receiver's variables.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  const exited = new Promise((done) =>
    child.once("exit", (code, signal) => {
      running.delete(child.pid);
      done({ code, signal });
    }),
  );
  const receiver = {
    pid: child.pid,
    exited,
    lines: () => stdout.split("\n").filter(Boolean),
    stderr: () => stderr,
    async stop() {
      if (!running.has(child.pid)) return exited;
      process.kill(-child.pid, "SIGTERM");
      const force = setTimeout(() => process.kill(-child.pid, "SIGKILL"), 5000);
      const result = await exited;
      clearTimeout(force);
      return result;
    },
  };
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      receiver.stop();
      fail(new Error(`the receiver did not start within 60 s:\n${stderr}`));
    }, 60_000);
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\/events/.exec(stderr);
      if (waitForListen && match && !receiver.url) {
        receiver.url = match[1];
        clearTimeout(timer);
        ready(receiver);
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      if (!receiver.url) (waitForListen ? fail : ready)({ ...receiver, code, stderr });
    });
  });
}

async function post(url, body, headers) {
  const response = await fetch(`${url}/events`, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

/** Standard Webhooks headers for `body`, made by the reference implementation. */
function signed(key, id, body, date = new Date()) {
  const signature = new standardwebhooks.Webhook(key).sign(id, date, body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(date.getTime() / 1000)),
    "webhook-signature": signature,
  };
}

/** Waits until the receiver printed `count` lines (it prints before answering; this is a guard). */
async function linesAfter(receiver, count) {
  for (let i = 0; i < 50 && receiver.lines().length < count; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return receiver.lines();
}

describe("deno-receiver", { timeout: 120_000 }, () => {
  const started = [];
  after(async () => {
    await Promise.all(started.map((receiver) => receiver.stop()));
  });

  it("prints registry envelopes once each, with the registry's bearer token", async () => {
    const receiver = await startReceiver({ RECEIVER_TOKENS: "test-token" });
    started.push(receiver);
    const pushes = ["001-", "002-", "003-"].map(fixture);
    for (const push of pushes) {
      const answer = await post(receiver.url, push.body, push.headers);
      assert.equal(answer.status, 200, push.name);
      assert.deepEqual(answer.json, { received: 1, duplicates: 0 });
    }
    // 052 and 053 are two attempts of one event (the registry retried after a 500).
    const first = fixture("052-");
    const retry = fixture("053-");
    assert.equal(first.events[0].id, retry.events[0].id);
    assert.deepEqual((await post(receiver.url, first.body, first.headers)).json, {
      received: 1,
      duplicates: 0,
    });
    const again = await post(receiver.url, retry.body, retry.headers);
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, { received: 0, duplicates: 1 });

    const expected = [...pushes, first].map((f) => expectedLine(f.events[0]));
    assert.deepEqual(await linesAfter(receiver, expected.length), expected);
    assert.match(
      receiver.lines()[2],
      /^push harness\/alpha:v1@sha256:3e0ad3a67c04\w+ id=d624a3e6-bc9f-4de2-8803-32ab4dc07211$/,
    );
    assert.match(receiver.stderr(), /duplicate event id=/);
  });

  it("refuses a wrong or missing token (401), a bad envelope (400) and a wrong type (415)", async () => {
    const receiver = await startReceiver({ RECEIVER_TOKENS: "test-token,second-token" });
    started.push(receiver);
    const push = fixture("003-");
    const type = { "content-type": push.headers["content-type"] };

    const wrong = await post(receiver.url, push.body, { ...type, authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, "unauthorized");
    assert.match(
      wrong.headers.get("www-authenticate"),
      /^Bearer realm=".*", error="invalid_token"/,
    );
    assert.equal((await post(receiver.url, push.body, type)).status, 401);

    const auth = { ...type, authorization: "Bearer second-token" };
    const broken = JSON.parse(push.body);
    delete broken.events[0].target.repository;
    const bad = await post(receiver.url, JSON.stringify(broken), auth);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "invalid_envelope");
    assert.deepEqual(
      bad.json.error.issues.map((issue) => issue.path),
      ["events[0].target.repository"],
    );
    const notJson = await post(receiver.url, "{", auth);
    assert.equal(notJson.status, 400);

    const plain = await post(receiver.url, push.body, {
      "content-type": "text/plain",
      authorization: auth.authorization,
    });
    assert.equal(plain.status, 415);
    assert.equal(plain.json.error.code, "unsupported_media_type");

    assert.deepEqual(receiver.lines(), [], "nothing refused is printed");
    const refusals = receiver.stderr().match(/^rejected \d{3} \w+/gm);
    assert.deepEqual(refusals, [
      "rejected 401 unauthorized",
      "rejected 401 unauthorized",
      "rejected 400 invalid_envelope",
      "rejected 400 invalid_envelope",
      "rejected 415 unsupported_media_type",
    ]);
    assert.doesNotMatch(receiver.stderr(), /second-token|test-token/);
  });

  it("verifies Standard Webhooks signatures and drops redeliveries by webhook-id", async () => {
    const receiver = await startReceiver({ WEBHOOK_SECRET: secret });
    started.push(receiver);
    const deletes = ["038-", "039-", "040-"].map(fixture);
    const type = { "content-type": "application/vnd.docker.distribution.events.v1+json" };
    for (const event of deletes) {
      const id = event.events[0].id;
      const answer = await post(receiver.url, event.body, {
        ...type,
        ...signed(secret, id, event.body),
      });
      assert.equal(answer.status, 200, event.name);
      assert.deepEqual(answer.json, { received: 1, duplicates: 0 });
    }
    // The relay retries with the same webhook-id and a fresh timestamp and signature.
    const redelivery = deletes[0];
    const later = new Date(Date.now() + 2000);
    const repeat = await post(receiver.url, redelivery.body, {
      ...type,
      ...signed(secret, redelivery.events[0].id, redelivery.body, later),
    });
    assert.equal(repeat.status, 200);
    assert.deepEqual(repeat.json, { received: 0, duplicate: true });

    const fresh = fixture("044-");
    const id = fresh.events[0].id;
    const cases = [
      ["unsigned", fresh.body, type, "missing-header"],
      [
        "signed with another secret",
        fresh.body,
        { ...type, ...signed(otherSecret, id, fresh.body) },
        "no-matching-signature",
      ],
      [
        "a stale timestamp",
        fresh.body,
        { ...type, ...signed(secret, id, fresh.body, new Date(Date.now() - 600_000)) },
        "timestamp-too-old",
      ],
      [
        "a tampered body",
        fresh.body.replace("harness/alpha", "harness/evil"),
        { ...type, ...signed(secret, id, fresh.body) },
        "no-matching-signature",
      ],
    ];
    for (const [what, body, headers, reason] of cases) {
      const answer = await post(receiver.url, body, headers);
      assert.equal(answer.status, 401, what);
      assert.equal(answer.json.error.code, "invalid_signature", what);
      assert.match(answer.json.error.message, new RegExp(`^${reason}: `), what);
    }
    // Signed but not an envelope: the signature passes, the envelope check answers 400.
    const garbage = JSON.stringify({ events: [{ id: "x" }] });
    const bad = await post(receiver.url, garbage, {
      ...type,
      ...signed(secret, "msg_bad", garbage),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "invalid_envelope");

    const expected = deletes.map((d) => expectedLine(d.events[0]));
    assert.deepEqual(await linesAfter(receiver, expected.length), expected);
    assert.deepEqual(expected, [
      `delete harness/alpha@${deletes[0].events[0].target.digest} id=${deletes[0].events[0].id}`,
      `delete harness/alpha:v1 id=${deletes[1].events[0].id}`,
      `delete harness/alpha:v2 id=${deletes[2].events[0].id}`,
    ]);
    assert.ok(!receiver.stderr().includes(secret.slice(6)), "the secret is never logged");
  });

  it("refuses to start with a secret that is not whsec_ + base64, without echoing it", async () => {
    const result = await startReceiver(
      { WEBHOOK_SECRET: "whsec_not*base64!" },
      { waitForListen: false },
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /WEBHOOK_SECRET\[0\] is not a Standard Webhooks secret/);
    assert.doesNotMatch(result.stderr, /not\*base64/);
  });

  it("refuses a port that is not a number", async () => {
    const result = await startReceiver({}, { args: ["--port", "eighty"], waitForListen: false });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /port must be an integer 0-65535, got "eighty"/);
  });
});

describe("deno-receiver behind the relay (wrangler dev)", { timeout: 180_000 }, () => {
  const ingestToken = "deno-example-ingest-token";
  let receiver;
  let relay;
  let relayBase;
  let persistDir;

  before(async () => {
    receiver = await startReceiver({ WEBHOOK_SECRET: secret });
    persistDir = mkdtempSync(join(tmpdir(), "deno-receiver-relay-"));
    // The relay signs every delivery with the endpoint's secret (Standard Webhooks).
    const endpoints = [{ name: "deno", url: `${receiver.url}/events`, secret, backoff: "200ms" }];
    relay = await startRelay({
      persistDir,
      vars: {
        RELAY_ENDPOINTS: JSON.stringify(endpoints),
        RELAY_INGEST_TOKENS: ingestToken,
        RELAY_ADMIN_TOKEN: "deno-example-admin-token",
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
    await receiver?.stop();
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  it("verifies the relay's signatures and prints each relayed event once", async () => {
    const pushes = ["019-", "020-", "021-"].map(fixture);
    const relayHeaders = {
      authorization: `Bearer ${ingestToken}`,
      "content-type": "application/vnd.docker.distribution.events.v1+json",
    };
    for (const push of pushes) {
      const answer = await fetch(`${relayBase}/v1/events`, {
        method: "POST",
        headers: relayHeaders,
        body: push.body,
      });
      assert.equal(answer.status, 202, await answer.text());
    }
    // The registry resends one: the relay answers 202 with duplicates: 1 and does not deliver it.
    const again = await fetch(`${relayBase}/v1/events`, {
      method: "POST",
      headers: relayHeaders,
      body: pushes[0].body,
    });
    assert.equal(again.status, 202);
    assert.equal((await again.json()).endpoints[0].duplicates, 1);

    const expected = pushes.map((push) => expectedLine(push.events[0]));
    for (let i = 0; i < 300 && receiver.lines().length < expected.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300)); // room for an unexpected extra line
    assert.deepEqual(receiver.lines(), expected);
    assert.doesNotMatch(receiver.stderr(), /rejected/, "every relayed request verified");
  });
});

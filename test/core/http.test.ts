import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type EnvelopeMediaType,
  EventsMediaType,
  EventsMediaTypeV2,
} from "../../src/event/constants.ts";
import {
  type EncodedEvent,
  encodeEnvelope,
  eventTexts,
  frameEnvelope,
  parseEnvelope,
} from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import {
  HttpEncodeError,
  HttpRedirectError,
  HttpRequestError,
  HttpSink,
  HttpStatusError,
  HttpTransportError,
  parseRetryAfter,
  redactUrl,
} from "../../src/sinks/http.ts";
import {
  EndpointMetrics,
  type EndpointMetricsSnapshot,
  statusText,
} from "../../src/sinks/metrics.ts";
import { classifyDeliveryError } from "../../src/sinks/retrying.ts";
import { SinkClosedError } from "../../src/sinks/sink.ts";
import { verifyWebhook } from "../../src/webhooks/webhooks.ts";
import { inbox, type Recorded, serverUrl, uniqueBucket } from "../support/env.ts";

const unique = () => uniqueBucket("http");

function event(id: string, mediaType: string, size: number, repository = "test/repo"): Event {
  return {
    id,
    timestamp: "2006-01-02T15:04:05Z",
    action: "push",
    target: {
      mediaType,
      size,
      digest: `sha256:${"0".repeat(63)}${size}`,
      length: size,
      repository,
      url: `http://example.com/v2/${repository}/manifests/sha256:${size}`,
    },
    request: {
      id: "asdfasdf",
      addr: "client.local",
      host: "registrycluster.local",
      method: "PUT",
      useragent: "test/0.1",
    },
    actor: { name: "test" },
    source: { addr: "hostname.local:port" },
  };
}

const manifest = event("manifest-1", "application/vnd.docker.distribution.manifest.v2+json", 1);
const layer1 = event("layer-1", "application/vnd.docker.container.image.rootfs.diff+x-gtar", 2);
const layer2 = event("layer-2", "application/vnd.docker.container.image.rootfs.diff+x-gtar", 3);

/** Requests the server recorded in the "status" bucket for one test case (tagged by `case`). */
async function statusRequests(tag: string): Promise<Recorded[]> {
  return (await inbox("status")).filter((r) => r.url.includes(`case=${tag}`));
}

const secretValues = [
  "pa55word-xyz",
  "qu3rys3cret",
  "h3ad3rs3cret",
  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
];
function assertClean(text: string, what: string) {
  for (const secret of secretValues) {
    assert.ok(!text.includes(secret), `${what} leaks ${secret}: ${text}`);
  }
}

let opaque: Promise<boolean> | undefined;
/**
 * Whether this runtime hides redirects from scripts (browsers: `redirect: "manual"` yields an
 * `opaqueredirect` response with status 0 and no headers). Node, Deno, Bun and workerd show them.
 */
function redirectsAreOpaque(): Promise<boolean> {
  opaque ??= fetch(`${serverUrl}/redirect/307`, { method: "POST", redirect: "manual" }).then(
    async (response) => {
      await response.body?.cancel();
      return response.type === "opaqueredirect";
    },
  );
  return opaque;
}

/** The rejection of a promise that must reject. */
const rejectionOf = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail("should reject"),
    (e: unknown) => e,
  );

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("HttpSink", () => {
  it("TestHTTPSink: status table with exact metrics after each case", async () => {
    const metrics = new EndpointMetrics();
    const expected: EndpointMetricsSnapshot = {
      pending: 0,
      events: 0,
      successes: 0,
      failures: 0,
      errors: 0,
      statuses: {},
    };
    const tag = unique();
    const opaqueRedirects = await redirectsAreOpaque();
    const cases: {
      events: Event[];
      url: string;
      status?: number;
      failure?: boolean;
      error?: boolean;
      redirect?: boolean;
    }[] = [
      { events: [manifest], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      { events: [layer1], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      { events: [layer2], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      { events: [manifest], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      // A 3xx is never success (upstream counted a 307 without Location as one): it fails the
      // attempt. A browser hides the redirect, status included: no status to count there.
      {
        events: [layer1],
        url: `${serverUrl}/status?status=307&case=${tag}`,
        ...(opaqueRedirects ? { error: true } : { status: 307, failure: true }),
        redirect: true,
      },
      {
        events: [layer1],
        url: `${serverUrl}/status?status=400&case=${tag}`,
        status: 400,
        failure: true,
      },
      // The server drops the connection without answering.
      { events: [layer1], url: `${serverUrl}/close?case=${tag}`, error: true },
    ];
    for (const test of cases) {
      if (test.failure) expected.failures++;
      else if (test.error) expected.errors++;
      else expected.successes++;
      if (test.status) {
        const key = `${test.status} ${statusText(test.status)}`;
        expected.statuses[key] = (expected.statuses[key] ?? 0) + 1;
      }
      const sink = new HttpSink(test.url, { metrics });
      const result = await sink.write(...test.events).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (test.redirect) {
        assert.ok(result instanceof HttpRedirectError, `${test.url}: ${result}`);
        assert.equal(result.status, opaqueRedirects ? 0 : 307);
        assert.equal(result.location, undefined, "no Location");
        assert.equal(result.permanent, false);
      } else if (test.failure) {
        assert.ok(result instanceof HttpStatusError, `${test.url}: ${result}`);
        assert.equal(result.status, 400);
        assert.equal(result.statusText, "Bad Request");
        assert.equal(
          result.message,
          `httpSink{${serverUrl}/status?status=***&case=***}: response status 400 Bad Request unaccepted`,
        );
      } else if (test.error) {
        assert.ok(result instanceof HttpTransportError, `${test.url}: ${result}`);
        assert.equal(result.timedOut, false);
        assert.match(result.message, /^httpSink\{.*\/close\?case=\*\*\*\}: error posting: /);
      } else {
        assert.equal(result, undefined, `${test.url} should succeed`);
      }
      assert.deepEqual(metrics.snapshot(), expected, `metrics after ${test.url}`);
      const first = sink.close();
      assert.equal(sink.close(), first, "close is idempotent");
      await first;
      await assert.rejects(sink.write(manifest), SinkClosedError);
    }
    assert.deepEqual(expected.statuses, {
      "200 OK": 4,
      ...(!opaqueRedirects && { "307 Temporary Redirect": 1 }),
      "400 Bad Request": 1,
    });
    // What the receiver saw: POST, the media type, and a body that decodes as an envelope.
    const seen = await statusRequests(tag);
    assert.equal(seen.length, 6);
    for (const request of seen) {
      assert.equal(request.method, "POST");
      assert.equal(request.headers["content-type"], EventsMediaType);
      assert.equal(parseEnvelope(request.body).events.length, 1);
    }
    assert.equal(seen[0]?.body, encodeEnvelope({ events: [manifest] }), "the exact envelope bytes");
  });

  it("appends configured headers (lists send each value) and sends the chosen media type", async () => {
    const bucket = unique();
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, {
      headers: { "X-Multi": ["a", "b"], Authorization: "Bearer h3ad3rs3cret" },
      mediaType: EventsMediaTypeV2,
    });
    await sink.write(manifest);
    const viaHeaders = new Headers();
    viaHeaders.append("X-Team", "one");
    viaHeaders.append("X-Team", "two");
    await new HttpSink(`${serverUrl}/inbox/${bucket}`, { headers: viaHeaders }).write(layer1);
    const [first, second] = await inbox(bucket);
    assert.equal(first?.headers["x-multi"], "a, b");
    assert.equal(first?.headers.authorization, "Bearer h3ad3rs3cret");
    assert.equal(first?.headers["content-type"], EventsMediaTypeV2);
    assert.equal(
      first?.body,
      encodeEnvelope({ events: [manifest] }, { mediaType: EventsMediaTypeV2 }),
    );
    assert.equal(second?.headers["x-team"], "one, two");
    assert.equal(second?.headers["content-type"], EventsMediaType);
  });

  it("splits a write into envelopes of maxBatch events, in order", async () => {
    const bucket = unique();
    const events = [1, 2, 3, 4, 5].map((n) => event(`e${n}`, "application/octet-stream", n));
    const metrics = new EndpointMetrics();
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, { maxBatch: 2, metrics });
    await sink.write(...events);
    const posts = await inbox(bucket);
    assert.deepEqual(
      posts.map((post) => parseEnvelope(post.body).events.map((e) => e.id)),
      [["e1", "e2"], ["e3", "e4"], ["e5"]],
    );
    assert.equal(metrics.successes, 3, "counted per POST");
  });

  it("marks how many events a failing batch write had already delivered", async () => {
    let calls = 0;
    const sink = new HttpSink("http://receiver.test/in", {
      maxBatch: 2,
      fetch: async () => new Response(null, { status: ++calls === 2 ? 503 : 200 }),
    });
    const error = await sink.write(manifest, layer1, layer2).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.delivered, 2);
  });

  it("posts one at a time, in write order", async () => {
    const bucket = unique();
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`);
    const events = Array.from({ length: 20 }, (_, i) =>
      event(`o${i}`, "application/octet-stream", i),
    );
    await Promise.all(events.map((e) => sink.write(e)));
    const posts = await inbox(bucket);
    assert.deepEqual(
      posts.map((p) => parseEnvelope(p.body).events[0]?.id),
      events.map((e) => e.id),
    );
  });

  it("times out an attempt and says so", async () => {
    const metrics = new EndpointMetrics();
    const sink = new HttpSink(`${serverUrl}/status?status=200&delay=1000&case=${unique()}`, {
      timeout: 50,
      metrics,
    });
    const started = performance.now();
    const error = await sink.write(manifest).then(
      () => assert.fail("should time out"),
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    assert.ok(error instanceof HttpTransportError);
    assert.equal(error.timedOut, true);
    assert.match(error.message, /timeout after 50ms/);
    assert.ok(elapsed < 600, `gave up after ${elapsed.toFixed(0)} ms`);
    assert.equal(metrics.errors, 1);
    assert.deepEqual(metrics.statuses, {});
  });

  it("takes a timeout past what a timer holds (2^31 - 1 ms) as that, not as one that fires at once", async () => {
    for (const timeout of [Number.POSITIVE_INFINITY, 2 ** 31, 1e12]) {
      const sink = new HttpSink(`${serverUrl}/status?status=200&delay=20&case=${unique()}`, {
        timeout,
      });
      await sink.write(manifest);
      await sink.close();
    }
  });

  it("after a timed-out attempt, the next attempts start with a live signal and succeed", async () => {
    const signals: AbortSignal[] = [];
    const sink = new HttpSink("http://receiver.test/in", {
      timeout: 30,
      fetch: (_url, init) => {
        const signal = init.signal as AbortSignal;
        signals.push(signal);
        if (signal.aborted) return Promise.reject(new Error("attempt started already aborted"));
        if (signals.length !== 3) return Promise.resolve(new Response(null, { status: 200 }));
        // The third attempt hangs until its timeout aborts it.
        return new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        });
      },
    });
    await sink.write(manifest);
    await sink.write(layer1);
    const error = await sink.write(layer2).then(
      () => assert.fail("should time out"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpTransportError && error.timedOut, String(error));
    for (let i = 0; i < 20; i++) await sink.write(manifest);
    assert.equal(signals.length, 23);
    assert.equal(signals[2]?.aborted, true, "the timed-out attempt was aborted");
    assert.equal(signals.at(-1)?.aborted, false);
  });

  it("reads Retry-After (seconds from the server, HTTP date relative to now)", async () => {
    const sink = new HttpSink(`${serverUrl}/status?status=503&retryAfter=2&case=${unique()}`);
    const error = await sink.write(manifest).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.retryAfterMs, 2000);
    const now = Date.parse("2015-10-21T07:27:00Z");
    const dated = new HttpSink("http://receiver.test/in", {
      now: () => now,
      fetch: async () =>
        new Response(null, {
          status: 429,
          headers: { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" },
        }),
    });
    const throttled = await dated.write(manifest).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(throttled instanceof HttpStatusError);
    assert.equal(throttled.retryAfterMs, 60_000);
    assert.equal(parseRetryAfter("120"), 120_000);
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:26:00 GMT", now), 0, "a past date means now");
  });

  it("signs with Standard Webhooks: id = event id (stable), timestamp per attempt, verifiable", async () => {
    const bucket = unique();
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let now = 1_700_000_000_000;
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, { secret, now: () => now });
    await sink.write(manifest);
    now += 5000;
    await sink.write(manifest); // a retry of the same event
    await new HttpSink(`${serverUrl}/inbox/${bucket}`, { secret, maxBatch: 3 }).write(
      manifest,
      layer1,
      layer2,
    );
    await new HttpSink(`${serverUrl}/inbox/${bucket}`, { secret, maxBatch: 3 }).write(
      manifest,
      layer1,
      layer2,
    );
    await new HttpSink(`${serverUrl}/inbox/${bucket}`, { secret, maxBatch: 3 }).write(
      manifest,
      layer1,
    );
    const [first, retry, batch, sameBatch, otherBatch] = await inbox(bucket);
    assert.equal(first?.headers["webhook-id"], manifest.id);
    assert.equal(retry?.headers["webhook-id"], manifest.id, "stable across retries");
    assert.equal(first?.headers["webhook-timestamp"], "1700000000");
    assert.equal(retry?.headers["webhook-timestamp"], "1700000005", "refreshed per attempt");
    assert.match(first?.headers["webhook-signature"] ?? "", /^v1,[A-Za-z0-9+/]+=*$/);
    for (const request of [first, retry]) {
      const verified = await verifyWebhook({
        secret,
        headers: request!.headers,
        body: request!.body,
        now: Number(request!.headers["webhook-timestamp"]),
      });
      assert.equal(verified.id, manifest.id);
    }
    const batchId = batch?.headers["webhook-id"] ?? "";
    assert.match(batchId, /^batch_[0-9a-f]{32}$/);
    assert.equal(
      sameBatch?.headers["webhook-id"],
      batchId,
      "derived deterministically from the ids",
    );
    assert.notEqual(otherBatch?.headers["webhook-id"], batchId);
    await verifyWebhook({ secret, headers: batch!.headers, body: batch!.body });
    // Recompute the HMAC by hand too: base64(HMAC-SHA256(key, id.timestamp.body)).
    const key = await crypto.subtle.importKey(
      "raw",
      Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const signed = `${batchId}.${batch?.headers["webhook-timestamp"]}.${batch?.body}`;
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signed)),
    );
    assert.equal(batch?.headers["webhook-signature"], `v1,${btoa(String.fromCharCode(...mac))}`);
  });

  it("batch webhook-ids differ however the ids split (ids may contain any separator)", async () => {
    const bucket = unique();
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, { secret, maxBatch: 2 });
    await sink.write({ ...manifest, id: "a\nb" }, { ...layer1, id: "c" });
    await sink.write({ ...manifest, id: "a" }, { ...layer1, id: "b\nc" });
    const [one, two] = await inbox(bucket);
    assert.match(one?.headers["webhook-id"] ?? "", /^batch_[0-9a-f]{32}$/);
    assert.notEqual(one?.headers["webhook-id"], two?.headers["webhook-id"]);
  });

  it("never shows header values, secrets, userinfo or query values", async () => {
    const tag = unique();
    const url = `http://bot:pa55word-xyz@${serverUrl.slice("http://".length)}/status?status=400&token=qu3rys3cret&case=${tag}`;
    const metrics = new EndpointMetrics();
    const sink = new HttpSink(url, {
      headers: { "X-Api-Key": "h3ad3rs3cret" },
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      metrics,
    });
    const error = await sink.write(manifest).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpStatusError);
    assert.match(
      error.message,
      /httpSink\{http:\/\/\*\*\*@127\.0\.0\.1:\d+\/status\?status=\*\*\*&token=\*\*\*&case=\*\*\*\}/,
    );
    for (const [what, text] of [
      ["message", error.message],
      ["error JSON", JSON.stringify(error)],
      ["String(sink)", String(sink)],
      ["sink JSON", JSON.stringify(sink)],
      ["metrics JSON", JSON.stringify(metrics)],
    ] as const) {
      assertClean(text, what);
    }
    assert.deepEqual(JSON.parse(JSON.stringify(sink)).headers, ["X-Api-Key"]);
    // Userinfo became Basic auth, as Go does, and the request itself carried everything.
    const [request] = await statusRequests(tag);
    assert.equal(request?.headers.authorization, `Basic ${btoa("bot:pa55word-xyz")}`);
    assert.equal(request?.headers["x-api-key"], "h3ad3rs3cret");
    assert.ok(request?.url.includes("token=qu3rys3cret"));

    const closed = new HttpSink(`${serverUrl}/close?token=qu3rys3cret`, {
      headers: { "X-Api-Key": "h3ad3rs3cret" },
    });
    const transport = await closed.write(manifest).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(transport instanceof HttpTransportError);
    assertClean(transport.message, "transport message");
    assertClean(JSON.stringify(transport), "transport JSON");
    assertClean(String(transport.cause), "transport cause");
  });

  it("redactUrl keeps the shape and drops the secrets", () => {
    assert.equal(
      redactUrl("https://bot:pw@hooks.example.com/in?token=abc&team=x#frag"),
      "https://***@hooks.example.com/in?token=***&team=***",
    );
    assert.equal(redactUrl("https://hooks.example.com/in"), "https://hooks.example.com/in");
    assert.equal(redactUrl("not a url"), "<invalid url>");
  });

  it("rejects a bad URL, batch size or header without echoing values", () => {
    assert.throws(() => new HttpSink("hooks.example.com/in"), /url must be an absolute http/);
    assert.throws(() => new HttpSink("ftp://hooks.example.com/in"), /http or https/);
    assert.throws(() => new HttpSink("https://h.example/", { maxBatch: 0 }), RangeError);
    assert.throws(
      () =>
        new HttpSink("https://h.example/", { headers: { "X-Key": "h3ad3rs3cret\r\nInjected: 1" } }),
      (e: unknown) =>
        e instanceof TypeError && /X-Key/.test(e.message) && !e.message.includes("h3ad3rs3cret"),
    );
    assert.throws(
      () => new HttpSink("https://h.example/", { headers: { "Bad Name": "x" } }),
      /header name/,
    );
  });

  it("an event that cannot be encoded fails with a final HttpEncodeError, before any request", async () => {
    let calls = 0;
    const sink = new HttpSink("http://receiver.test/in", {
      fetch: async () => {
        calls++;
        return new Response(null);
      },
    });
    const broken = event("nan", "application/octet-stream", Number.NaN);
    const error = await sink.write(broken).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpEncodeError);
    assert.match(
      error.message,
      /^httpSink\{http:\/\/receiver\.test\/in\}: error marshaling event envelope: /,
    );
    assert.equal(classifyDeliveryError(error), "final");
    assert.equal(calls, 0);
  });

  it("rejects a secret that is not whsec_ + base64 at construction, without echoing it", () => {
    for (const secret of [
      "not base64 h3ad3rs3cret!",
      "",
      ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "h3ad3rs3cret!"],
    ]) {
      assert.throws(
        () => new HttpSink("https://h.example/", { secret }),
        (e: unknown) =>
          e instanceof TypeError && /secret/.test(e.message) && !e.message.includes("h3ad3rs3cret"),
      );
    }
    // An empty list is a missing first secret.
    assert.throws(
      () => new HttpSink("https://h.example/", { secret: [] }),
      /httpSink: secret\[0\] must be \(whsec_\) base64/,
    );
  });

  it("reads a small body of known length to its end, and stops a large or unsized one at 64 KiB", async () => {
    /** A body of `chunks` 16 KiB chunks (endless without a count) that records what was read. */
    const served = (chunks = Number.POSITIVE_INFINITY) => {
      const seen = { pulled: 0, closed: false, cancelled: false };
      const stream = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            if (seen.pulled === chunks) {
              seen.closed = true;
              controller.close();
              return;
            }
            seen.pulled++;
            controller.enqueue(new Uint8Array(16 * 1024));
          },
          cancel() {
            seen.cancelled = true;
          },
        },
        { highWaterMark: 0 },
      );
      return { seen, stream };
    };
    const answer = (body: ReadableStream<Uint8Array>, headers: Record<string, string>) =>
      new HttpSink("http://receiver.test/in", {
        fetch: async () => new Response(body, { status: 200, headers }),
      });

    const small = served(2);
    await answer(small.stream, { "content-length": String(32 * 1024) }).write(manifest);
    assert.deepEqual(small.seen, { pulled: 2, closed: true, cancelled: false }, "read to the end");

    const unknownOrLarge: Record<string, string>[] = [
      {},
      { "content-length": String(1024 * 1024) },
    ];
    for (const headers of unknownOrLarge) {
      const large = served();
      await answer(large.stream, headers).write(manifest);
      assert.equal(large.seen.cancelled, true, `rest cancelled (${JSON.stringify(headers)})`);
      assert.ok(large.seen.pulled <= 6, `read about 64 KiB, not ${large.seen.pulled} chunks`);
    }
  });

  it("sends nothing for a write without events", async () => {
    let calls = 0;
    const sink = new HttpSink("http://receiver.test/in", {
      fetch: async () => {
        calls++;
        return new Response(null);
      },
    });
    await sink.write();
    assert.equal(calls, 0);
  });
});

describe("HttpSink: redirects are never success", () => {
  it("fails a 301, 302, 303, 307 or 308 with the status and the redacted Location; the body never reaches it", async () => {
    const opaqueRedirects = await redirectsAreOpaque();
    for (const status of [301, 302, 303, 307, 308]) {
      const bucket = unique();
      const to = `/inbox/${bucket}?token=qu3rys3cret`;
      const metrics = new EndpointMetrics();
      const sink = new HttpSink(
        `${serverUrl}/redirect/${status}?to=${encodeURIComponent(to)}&case=${bucket}`,
        { metrics, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      );
      const error = await rejectionOf(sink.write(manifest));
      assert.ok(error instanceof HttpRedirectError, `${status}: ${error}`);
      assert.ok(error instanceof HttpStatusError, "a redirect is a status error");
      assertClean(error.message, `${status} message`);
      if (opaqueRedirects) {
        // A browser: the redirect is opaque, so neither status nor Location is known.
        assert.equal(error.status, 0);
        assert.equal(error.location, undefined);
        assert.match(error.message, /redirect not followed/);
        assert.equal(classifyDeliveryError(error), "retry");
        assert.equal(metrics.errors, 1);
      } else {
        const permanent = status === 301 || status === 308;
        assert.equal(error.status, status);
        assert.equal(error.permanent, permanent);
        assert.equal(error.location, `${serverUrl}/inbox/${bucket}?token=***`);
        assert.ok(
          error.message.startsWith(
            `httpSink{${serverUrl}/redirect/${status}?to=***&case=***}: response status ${status} ${statusText(status)} unaccepted: redirect to ${serverUrl}/inbox/${bucket}?token=*** not followed`,
          ),
          error.message,
        );
        assert.equal(/update its URL/.test(error.message), permanent, error.message);
        assert.equal(classifyDeliveryError(error), permanent ? "final" : "retry");
        assert.deepEqual(metrics.snapshot().statuses, { [`${status} ${statusText(status)}`]: 1 });
        assert.equal(metrics.failures, 1);
      }
      assert.equal(metrics.successes, 0, `${status} is not a success`);
      assert.deepEqual(await inbox(bucket), [], `${status}: nothing reached Location`);
    }
  });

  it("asks fetch not to follow, resolves a relative Location, and keeps Retry-After", async () => {
    const seen: RequestInit[] = [];
    const answers = [
      new Response(null, { status: 302, headers: { location: "../moved?key=k3y-value" } }),
      new Response(null, { status: 307, headers: { "retry-after": "7" } }),
      new Response(null, { status: 308, headers: { location: "https://bot:pw@new.example/in" } }),
    ];
    const sink = new HttpSink("https://hooks.example/a/b?token=qu3rys3cret", {
      fetch: async (_url, init) => {
        seen.push(init);
        return answers.shift() as Response;
      },
    });
    const relative = await rejectionOf(sink.write(manifest));
    assert.ok(relative instanceof HttpRedirectError);
    assert.equal(relative.location, "https://hooks.example/moved?key=***");
    const bare = await rejectionOf(sink.write(manifest));
    assert.ok(bare instanceof HttpRedirectError);
    assert.equal(bare.location, undefined);
    assert.equal(bare.retryAfterMs, 7000);
    assert.match(bare.message, /redirect without Location not followed$/);
    const moved = await rejectionOf(sink.write(manifest));
    assert.ok(moved instanceof HttpRedirectError);
    assert.equal(moved.location, "https://***@new.example/in");
    assert.match(moved.message, /the endpoint moved for good, update its URL$/);
    assert.deepEqual(
      seen.map((init) => init.redirect),
      ["manual", "manual", "manual"],
    );
  });

  it("a browser's opaque redirect fails the attempt without status or Location", async () => {
    const metrics = new EndpointMetrics();
    const opaqueResponse = {
      type: "opaqueredirect",
      status: 0,
      statusText: "",
      ok: false,
      headers: new Headers(),
      body: null,
    } as unknown as Response;
    const sink = new HttpSink("https://hooks.example/in", {
      metrics,
      fetch: async () => opaqueResponse,
    });
    const error = await rejectionOf(sink.write(manifest));
    assert.ok(error instanceof HttpRedirectError);
    assert.equal(error.status, 0);
    assert.equal(error.location, undefined);
    assert.equal(error.permanent, false);
    assert.equal(
      error.message,
      "httpSink{https://hooks.example/in}: redirect not followed (status and Location hidden)",
    );
    assert.equal(classifyDeliveryError(error), "retry");
    assert.deepEqual(metrics.snapshot(), {
      pending: 0,
      events: 0,
      successes: 0,
      failures: 0,
      errors: 1,
      statuses: {},
    });
  });

  it('followRedirects: "same-origin" follows only 307/308 to the same origin, 3 hops at most', async () => {
    const calls: { url: string; method?: string; body?: unknown; headers: unknown }[] = [];
    const route =
      (table: Record<string, () => Response>) => async (url: string, init: RequestInit) => {
        calls.push({ url, method: init.method, body: init.body, headers: init.headers });
        return (table[url] ?? (() => new Response(null, { status: 404 })))();
      };
    const redirect = (status: number, location: string) => () =>
      new Response(null, { status, headers: { location } });
    const ok = () => new Response(null, { status: 200 });
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    const follows = new HttpSink("https://hooks.example/in", {
      followRedirects: "same-origin",
      secret,
      fetch: route({
        "https://hooks.example/in": redirect(307, "/v2/in"),
        "https://hooks.example/v2/in": redirect(308, "https://hooks.example/v3/in"),
        "https://hooks.example/v3/in": ok,
      }),
    });
    await follows.write(manifest);
    assert.deepEqual(
      calls.map((c) => c.url),
      ["https://hooks.example/in", "https://hooks.example/v2/in", "https://hooks.example/v3/in"],
    );
    for (const call of calls) {
      assert.equal(call.method, "POST");
      assert.equal(call.body, calls[0]?.body, "same body");
      assert.deepEqual(call.headers, calls[0]?.headers, "same headers, signature included");
    }
    assert.equal(follows.metrics.successes, 1);

    const refused: [string, Record<string, () => Response>, number][] = [
      [
        "another origin",
        { "https://hooks.example/in": redirect(308, "https://evil.example/in") },
        308,
      ],
      [
        "another port",
        { "https://hooks.example/in": redirect(307, "https://hooks.example:8443/in") },
        307,
      ],
      ["a 302", { "https://hooks.example/in": redirect(302, "/v2/in") }, 302],
      ["a 301", { "https://hooks.example/in": redirect(301, "/v2/in") }, 301],
      ["a loop", { "https://hooks.example/in": redirect(307, "/in") }, 307],
    ];
    for (const [what, table, status] of refused) {
      calls.length = 0;
      const sink = new HttpSink("https://hooks.example/in", {
        followRedirects: "same-origin",
        fetch: route(table),
      });
      const error = await rejectionOf(sink.write(manifest));
      assert.ok(error instanceof HttpRedirectError, `${what}: ${error}`);
      assert.equal(error.status, status, what);
      assert.equal(calls.length, what === "a loop" ? 4 : 1, `${what}: requests made`);
    }

    calls.length = 0;
    const never = new HttpSink("https://hooks.example/in", {
      fetch: route({
        "https://hooks.example/in": redirect(307, "/v2/in"),
        "https://hooks.example/v2/in": ok,
      }),
    });
    await assert.rejects(never.write(manifest), HttpRedirectError);
    assert.equal(calls.length, 1, "not followed by default");
    assert.throws(
      () => new HttpSink("https://hooks.example/in", { followRedirects: "always" as "never" }),
      /followRedirects/,
    );
  });
});

describe("HttpSink: nothing in an event makes a request unsendable", () => {
  it("an event id that is no safe token becomes webhook-id evt_<sha256 prefix>; the POST goes out signed", async () => {
    const bucket = unique();
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ids = [
      "with\0nul",
      "with\rcr",
      "with\nlf",
      "crlf\r\nInjected: 1",
      "non-ascii-é",
      "emoji-😀",
      "with space",
      "with.dot",
      "x".repeat(257),
    ];
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, { secret });
    for (const id of ids) await sink.write({ ...manifest, id });
    const safe = ["3f2c-uuid-like_ID:1+/=@~", "x".repeat(256)];
    for (const id of safe) await sink.write({ ...manifest, id });
    const posts = await inbox(bucket);
    assert.equal(posts.length, ids.length + safe.length);
    for (const [index, id] of ids.entries()) {
      const post = posts[index];
      assert.equal(
        post?.headers["webhook-id"],
        `evt_${(await sha256Hex(id)).slice(0, 32)}`,
        JSON.stringify(id),
      );
      assert.equal(post?.headers.injected, undefined);
      assert.deepEqual(
        parseEnvelope(post?.body ?? "").events.map((e) => e.id),
        [id],
      );
      const verified = await verifyWebhook({ secret, headers: post!.headers, body: post!.body });
      assert.equal(verified.id, post?.headers["webhook-id"]);
    }
    assert.deepEqual(
      posts.slice(ids.length).map((p) => p.headers["webhook-id"]),
      safe,
      "a safe id is sent as it is",
    );
    // Stable across retries: the same id gives the same webhook-id.
    await sink.write({ ...manifest, id: ids[0] as string });
    const again = await inbox(bucket);
    assert.equal(again.at(-1)?.headers["webhook-id"], posts[0]?.headers["webhook-id"]);
  });

  it("a header value that is not printable ASCII is refused at construction, without echoing it", () => {
    // Runtimes disagree on anything but ASCII (Node and browsers refuse it at every POST, workerd
    // sends it as UTF-8 and logs it): refused everywhere, once.
    for (const value of [
      "tok€n-h3ad3rs3cret",
      "h3ad3rs3cret-😀",
      "café-h3ad3rs3cret",
      "h3ad3rs3cret\u0001",
    ]) {
      assert.throws(
        () => new HttpSink("https://h.example/", { headers: { "X-Key": value } }),
        (e: unknown) =>
          e instanceof TypeError && /X-Key/.test(e.message) && !e.message.includes("h3ad3rs3cret"),
      );
    }
    new HttpSink("https://h.example/", { headers: { "X-Key": "printable ASCII\twith tab ~!" } });
  });

  it("a request that cannot be built is an HttpRequestError (final); a network TypeError stays a transport error (retried)", async () => {
    assert.ok(new HttpEncodeError("x") instanceof HttpRequestError, "encoding is request building");
    assert.equal(classifyDeliveryError(new HttpRequestError("bad header")), "final");
    const failing = new HttpSink("http://receiver.test/in", {
      fetch: async () => {
        throw new TypeError("fetch failed", { cause: new Error("ECONNRESET") });
      },
    });
    const network = await rejectionOf(failing.write(manifest));
    assert.ok(network instanceof HttpTransportError, String(network));
    assert.ok(!(network instanceof HttpRequestError));
    assert.equal(classifyDeliveryError(network), "retry");
    // A batch whose second envelope cannot be encoded: the first was delivered, and says so.
    let calls = 0;
    const batched = new HttpSink("http://receiver.test/in", {
      maxBatch: 1,
      fetch: async () => {
        calls++;
        return new Response(null, { status: 200 });
      },
    });
    const broken = event("nan", "application/octet-stream", Number.NaN);
    const partial = await rejectionOf(batched.write(manifest, broken, layer1));
    assert.ok(partial instanceof HttpEncodeError);
    assert.equal(partial.delivered, 1);
    assert.equal(calls, 1);
  });
});

describe("HttpSink.writeEncoded: pre-encoded events, sent as they are on their own line", () => {
  /** A sink whose POSTs are recorded (body, content type, signature headers) and answered 200. */
  function recording(options: ConstructorParameters<typeof HttpSink>[1] = {}) {
    const posts: { body: string; contentType: string | null; headers: Headers }[] = [];
    const sink = new HttpSink("http://receiver.test/in", {
      ...options,
      fetch: async (_url, init) => {
        const headers = new Headers(init.headers as HeadersInit);
        posts.push({
          body: init.body as string,
          contentType: headers.get("content-type"),
          headers,
        });
        return new Response(null, { status: 200 });
      },
    });
    return { sink, posts };
  }
  // Go's bytes for a User-Agent with an invalid UTF-8 byte and <&>: re-encoding the parsed event
  // would write a raw U+FFFD instead of `\ufffd`.
  const odd = { ...structuredClone(manifest), id: "odd-1" };
  (odd.request as { useragent: string }).useragent = "agent \ufffd <a> & b";
  const goBody = (events: Event[], mediaType: EnvelopeMediaType = EventsMediaType) =>
    encodeEnvelope({ events }, { mediaType }).replace("agent \ufffd", "agent \\ufffd");
  const encoded = (events: Event[], mediaType: EnvelopeMediaType = EventsMediaType) => {
    const body = goBody(events, mediaType);
    const envelope = parseEnvelope(body);
    const texts = eventTexts(body, envelope, { mediaType });
    return envelope.events.map((e, i) => ({ id: e.id, text: texts[i] as string, mediaType }));
  };

  it("sends texts of its own line verbatim, alone or batched in Go's frame", async () => {
    const events = [odd, layer1, layer2];
    for (const maxBatch of [1, 3]) {
      const { sink, posts } = recording({ maxBatch });
      await sink.writeEncoded(...encoded(events));
      const expected = maxBatch === 1 ? events.map((e) => goBody([e])) : [goBody(events)];
      assert.deepEqual(
        posts.map((p) => p.body),
        expected,
      );
      assert.ok(posts[0]?.body.includes("agent \\ufffd \\u003ca\\u003e \\u0026 b"));
      assert.ok(posts.every((p) => p.contentType === EventsMediaType));
      assert.equal(sink.metrics.snapshot().successes, posts.length);
    }
  });

  it("re-encodes only where the line changes (v1 <-> v2), as write would", async () => {
    for (const [from, to] of [
      [EventsMediaType, EventsMediaTypeV2],
      [EventsMediaTypeV2, EventsMediaType],
    ] as const) {
      const { sink, posts } = recording({ mediaType: to, maxBatch: 3 });
      const texts = encoded([odd, layer1], from);
      await sink.writeEncoded(...texts);
      const parsed = texts.map((t) => JSON.parse(t.text) as Event);
      assert.deepEqual(
        posts.map((p) => [p.contentType, p.body]),
        [[to, encodeEnvelope({ events: parsed }, { mediaType: to })]],
      );
    }
    // Mixed: a text of the sink's line stays, one without a line (or another) is re-encoded.
    const { sink, posts } = recording({ maxBatch: 3 });
    const [mine] = encoded([odd]);
    await sink.writeEncoded(mine as EncodedEvent, {
      id: layer1.id,
      text: JSON.stringify(layer1),
    });
    const layerText = (encoded([layer1])[0] as EncodedEvent).text;
    assert.equal(posts[0]?.body, frameEnvelope([(mine as EncodedEvent).text, layerText]));
  });

  it("signs the exact bytes sent, with the event id as webhook-id", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const { sink, posts } = recording({ secret });
    await sink.writeEncoded(...encoded([odd]));
    const [post] = posts;
    assert.equal(post?.body, goBody([odd]));
    assert.equal(post?.headers.get("webhook-id"), odd.id);
    await verifyWebhook({
      secret,
      headers: post?.headers as Headers,
      body: post?.body as string,
    });
  });

  it("fails a text that is not JSON with HttpEncodeError (final), sending nothing for it", async () => {
    const { sink, posts } = recording({ maxBatch: 1 });
    const [good] = encoded([layer1]);
    const error = await rejectionOf(
      sink.writeEncoded(good as EncodedEvent, { id: "bad", text: "{not json" }),
    );
    assert.ok(error instanceof HttpEncodeError, String(error));
    assert.match(error.message, /events\[0\]\.text is not JSON/);
    assert.equal(error.delivered, 1);
    assert.equal(classifyDeliveryError(error), "final");
    assert.equal(posts.length, 1);
    const wrong = await rejectionOf(sink.writeEncoded({ id: "x", text: 5 as unknown as string }));
    assert.ok(wrong instanceof HttpEncodeError);
  });
});

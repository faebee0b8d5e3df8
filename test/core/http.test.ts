import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/constants.ts";
import { encodeEnvelope, parseEnvelope } from "../../src/envelope.ts";
import {
  HttpEncodeError,
  HttpSink,
  HttpStatusError,
  HttpTransportError,
  parseRetryAfter,
  redactUrl,
} from "../../src/http.ts";
import { EndpointMetrics, type EndpointMetricsSnapshot, statusText } from "../../src/metrics.ts";
import { classifyDeliveryError } from "../../src/retrying.ts";
import type { Event } from "../../src/schema.ts";
import { SinkClosedError } from "../../src/sink.ts";
import { verifyWebhook } from "../../src/webhooks.ts";
import { inbox, type Recorded, serverUrl } from "../support/env.ts";

const unique = () => `http-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

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
    const cases: {
      events: Event[];
      url: string;
      status?: number;
      failure?: boolean;
      error?: boolean;
    }[] = [
      { events: [manifest], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      { events: [layer1], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      { events: [layer2], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      { events: [manifest], url: `${serverUrl}/status?status=200&case=${tag}`, status: 200 },
      // A 307 without Location is the final answer: success, as upstream.
      { events: [layer1], url: `${serverUrl}/status?status=307&case=${tag}`, status: 307 },
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
      if (test.failure) {
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
      "307 Temporary Redirect": 1,
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
    assert.throws(() => new HttpSink("hooks.example.com/in"), /absolute http\(s\) URL/);
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
    assert.throws(() => new HttpSink("https://h.example/", { secret: [] }), /empty list/);
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

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseEndpointConfig } from "../../src/endpoint/config.ts";
import { Endpoint, partitionOf, strategyFor } from "../../src/endpoint/endpoint.ts";
import { parseEnvelope } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { HttpStatusError } from "../../src/sinks/http.ts";
import type { DeadLetter } from "../../src/sinks/retrying.ts";
import { SinkClosedError } from "../../src/sinks/sink.ts";
import { Breaker, ExponentialBackoff } from "../../src/sinks/strategies.ts";
import { inbox, serverUrl, uniqueBucket } from "../support/env.ts";

const unique = () => uniqueBucket("ep");

function event(id: string, action: string, repository = "team/app", mediaType?: string): Event {
  return {
    id,
    timestamp: "2006-01-02T15:04:05Z",
    action,
    target: {
      ...(mediaType && { mediaType }),
      repository,
    },
  };
}

const manifestType = "application/vnd.docker.distribution.manifest.v2+json";
const blobType = "application/octet-stream";

describe("Endpoint", () => {
  it("filters, queues and delivers; metrics count only what passed the filter", async () => {
    const bucket = unique();
    const endpoint = new Endpoint("audit", `${serverUrl}/inbox/${bucket}`, {
      ignore: { actions: ["pull"], mediatypes: [blobType] },
    });
    await endpoint.write(
      event("push-manifest", "push", "team/app", manifestType),
      event("pull-manifest", "pull", "team/app", manifestType),
      event("push-blob", "push", "team/app", blobType),
      event("delete", "delete"),
    );
    await endpoint.close();
    const posts = await inbox(bucket);
    assert.deepEqual(
      posts.map((p) => parseEnvelope(p.body).events.map((e) => e.id)),
      [["push-manifest"], ["delete"]],
      "one event per POST, in order",
    );
    assert.deepEqual(endpoint.metrics(), {
      pending: 0,
      events: 2,
      successes: 2,
      failures: 0,
      errors: 0,
      statuses: { "200 OK": 2 },
    });
    await assert.rejects(endpoint.write(event("late", "push")), SinkClosedError);
  });

  it("retries a flaky receiver with the configured breaker and counts every attempt", async () => {
    const bucket = unique();
    const endpoint = new Endpoint("flaky", `${serverUrl}/flaky/${bucket}?fail=3&status=503`, {
      threshold: 1,
      backoff: 5,
    });
    await endpoint.write(event("e1", "push"));
    await endpoint.close();
    assert.deepEqual(endpoint.metrics(), {
      pending: 0,
      events: 1,
      successes: 1,
      failures: 3,
      errors: 0,
      statuses: { "503 Service Unavailable": 3, "200 OK": 1 },
    });
  });

  it("dead-letters a final 4xx at once and a 5xx after maxAttempts; the queue moves on", async () => {
    const letters: DeadLetter<Event>[] = [];
    const rejected = new Endpoint(
      "rejecting",
      `${serverUrl}/status?status=422&case=${unique()}`,
      {},
      {
        onDeadLetter: (letter) => {
          letters.push(letter);
        },
      },
    );
    await rejected.write(event("bad", "push"));
    await rejected.write(event("bad2", "push"));
    await rejected.close();
    assert.deepEqual(
      letters.map((l) => [l.reason, l.attempts, l.events[0]?.id]),
      [
        ["final", 1, "bad"],
        ["final", 1, "bad2"],
      ],
    );
    assert.ok(letters[0]?.lastError instanceof HttpStatusError);

    letters.length = 0;
    const down = new Endpoint(
      "down",
      `${serverUrl}/status?status=503&case=${unique()}`,
      { maxAttempts: 3, strategy: { type: "exponential", base: 1, factor: 1, max: 5 } },
      { onDeadLetter: (letter) => void letters.push(letter) },
    );
    await down.write(event("lost?", "push"));
    await down.close();
    assert.deepEqual(
      letters.map((l) => [l.reason, l.attempts]),
      [["max-attempts", 3]],
    );
    assert.deepEqual(down.metrics().statuses, { "503 Service Unavailable": 3 });
    assert.equal(down.metrics().pending, 0);
  });

  it("gives up after 3 days when maxAge is not configured; a permanent redirect at once", async () => {
    let now = 1_700_000_000_000;
    const start = now;
    let calls = 0;
    const letters: DeadLetter<Event>[] = [];
    // Down for 100 days, then up (so that retrying forever would end too).
    const endpoint = new Endpoint(
      "down-for-days",
      "https://hooks.example.com/in",
      { strategy: { type: "breaker", threshold: 1, backoff: 3_600_000 } },
      {
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
        fetch: async () => {
          calls++;
          return new Response(null, { status: now - start < 100 * 86_400_000 ? 503 : 200 });
        },
        onDeadLetter: (letter) => void letters.push(letter),
      },
    );
    await endpoint.write(event("e", "push"));
    await endpoint.close();
    assert.deepEqual(
      letters.map((l) => [l.reason, l.attempts]),
      [["max-age", 73]],
    );
    assert.equal(calls, 73);
    assert.equal(now - start, 72 * 3_600_000, "the last attempt started at 72 h");

    letters.length = 0;
    const moved = new Endpoint(
      "moved",
      "https://hooks.example.com/in",
      {},
      {
        fetch: async () =>
          new Response(null, { status: 308, headers: { location: "https://new.example.com/in" } }),
        onDeadLetter: (letter) => void letters.push(letter),
      },
    );
    await moved.write(event("e", "push"));
    await moved.close();
    assert.deepEqual(
      letters.map((l) => [l.reason, l.attempts]),
      [["final", 1]],
    );
    assert.match(String(letters[0]?.lastError), /update its URL/);
    assert.deepEqual(moved.metrics().statuses, { "308 Permanent Redirect": 1 });
    assert.equal(moved.metrics().successes, 0);
  });

  it("without onDeadLetter, a given-up write reaches onError with its events", async () => {
    const failures: [unknown, Event[]][] = [];
    const endpoint = new Endpoint(
      "noisy",
      `${serverUrl}/status?status=400&case=${unique()}`,
      {},
      { onError: (error, events) => failures.push([error, events]) },
    );
    await endpoint.write(event("e", "push"));
    await endpoint.close();
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.[1][0]?.id, "e");
    assert.match(String(failures[0]?.[0]), /gave up .* \(final\): .*400 Bad Request/);
  });

  it("batches up to maxBatch events per POST and signs them", async () => {
    const bucket = unique();
    const endpoint = new Endpoint("batched", `${serverUrl}/inbox/${bucket}`, {
      maxBatch: 2,
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    });
    await endpoint.write(event("a", "push"), event("b", "push"), event("c", "push"));
    await endpoint.close();
    const posts = await inbox(bucket);
    assert.deepEqual(
      posts.map((p) => parseEnvelope(p.body).events.map((e) => e.id)),
      [["a", "b"], ["c"]],
    );
    assert.equal(posts[1]?.headers["webhook-id"], "c");
    assert.match(posts[0]?.headers["webhook-id"] ?? "", /^batch_/);
  });

  it("routes by repository over partitions, keeping per-repository order", async () => {
    const bucket = unique();
    const endpoint = new Endpoint("parted", `${serverUrl}/inbox/${bucket}`, { partitions: 3 });
    const repositories = ["a/one", "b/two", "c/three", "d/four"];
    const events = Array.from({ length: 20 }, (_, i) =>
      event(`e${i}`, "push", repositories[i % repositories.length]),
    );
    await endpoint.write(...events);
    await endpoint.close();
    const delivered = (await inbox(bucket)).flatMap((p) => parseEnvelope(p.body).events);
    assert.equal(delivered.length, 20);
    for (const repository of repositories) {
      assert.deepEqual(
        delivered.filter((e) => e.target.repository === repository).map((e) => e.id),
        events.filter((e) => e.target.repository === repository).map((e) => e.id),
      );
    }
    for (const repository of repositories) {
      const p = partitionOf(repository, 3);
      assert.ok(p >= 0 && p < 3);
      assert.equal(partitionOf(repository, 3), p, "stable");
      assert.equal(partitionOf(repository, 1), 0);
    }
    assert.equal(endpoint.metrics().events, 20);
  });

  it("takes typed settings or a parsed config; config files go through parseEndpointConfig", async () => {
    const typed = { timeout: 2000, ignore: { actions: ["pull"] as const } };
    const parsed = parseEndpointConfig({ timeout: "2s", ignore: { actions: ["pull"] } });
    for (const settings of [typed, parsed]) {
      const endpoint = new Endpoint("x", "https://hooks.example.com/in", settings);
      const json = JSON.parse(JSON.stringify(endpoint));
      assert.equal(json.timeout, 2000);
      assert.equal(json.maxBatch, 1, "distribution's defaults fill what is unset");
      assert.equal(json.format, "distribution");
      assert.deepEqual(json.ignore, { mediatypes: [], actions: ["pull"] });
      await endpoint.close();
    }
    // A config file's Go duration passed as it is, at the top or in the strategy: named, not
    // silently read as the default.
    for (const [settings, key] of [
      [{ timeout: "2s" }, "timeout"],
      [{ strategy: { type: "breaker", backoff: "1h" } }, "backoff"],
      [{ strategy: { type: "exponential", max: "5s" } }, "max"],
    ] as const) {
      assert.throws(
        () => new Endpoint("x", "https://hooks.example.com/in", settings as never),
        (e: unknown) => e instanceof TypeError && e.message === `${key} must be a number`,
      );
    }
    // The other numbers are checked by the part that takes them.
    for (const settings of [{ maxAge: "3d" }, { strategy: { type: "exponential", base: "1s" } }]) {
      assert.throws(() => new Endpoint("x", "https://h.example/", settings as never), RangeError);
    }
    assert.throws(() => new Endpoint("x", "https://h.example/", { partitions: 0 }), RangeError);
    assert.throws(
      () => new Endpoint("x", "https://h.example/", { mediaType: "text/plain" as never }),
      /httpSink: mediaType must be an envelope media type, got text\/plain/,
    );
    assert.throws(() => new Endpoint("x", "https://h.example/", { maxBatch: 0 }), RangeError);
    assert.throws(
      () => new Endpoint("x", "https://h.example/", { secret: "not base64!" }),
      /httpSink: secret\[0\] must be \(whsec_\) base64/,
    );
    // Only the formats the bundle has: a name of registry-relay/formats' says how to pass it.
    assert.throws(
      () => new Endpoint("x", "https://h.example/", { format: "cloudevents" }),
      /endpoint x: format must be "distribution" or an OutputFormat \(outputFormats of registry-relay\/formats\)$/,
    );
    assert.throws(
      () => parseEndpointConfig({ retries: 3 }),
      (e: unknown) => e instanceof ConfigError && e.key === "retries",
    );
    assert.throws(() => new Endpoint("x", "", {}), /url is required/);
    const fromConfig = new Endpoint("x", "", { url: "https://hooks.example.com/from-config" });
    assert.equal(fromConfig.url, "https://hooks.example.com/from-config");
    await fromConfig.close();
  });

  it("never shows header values, secrets, userinfo or query values", async () => {
    const secrets = [
      "h3ad3rs3cret",
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "pa55word-xyz",
      "qu3rys3cret",
    ];
    const endpoint = new Endpoint(
      "private",
      `http://bot:pa55word-xyz@${serverUrl.slice("http://".length)}/status?status=401&token=qu3rys3cret&case=${unique()}`,
      {
        headers: { Authorization: ["Bearer h3ad3rs3cret"] },
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      },
      { onDeadLetter: () => {} },
    );
    await endpoint.write(event("e", "push"));
    await endpoint.close();
    const errors: unknown[] = [];
    const failing = new Endpoint(
      "failing",
      `http://bot:pa55word-xyz@${serverUrl.slice("http://".length)}/status?status=400&token=qu3rys3cret&case=${unique()}`,
      { headers: { Authorization: ["Bearer h3ad3rs3cret"] } },
      { onError: (error) => errors.push(error) },
    );
    await failing.write(event("e", "push"));
    await failing.close();
    assert.equal(errors.length, 1);
    const shown = [
      String(endpoint),
      JSON.stringify(endpoint),
      JSON.stringify(endpoint.metrics()),
      endpoint.url,
      String(errors[0]),
      JSON.stringify(errors[0]),
      (errors[0] as Error).message,
    ].join("\n");
    for (const secret of secrets) assert.ok(!shown.includes(secret), `leaks ${secret}:\n${shown}`);
    const json = JSON.parse(JSON.stringify(endpoint));
    assert.deepEqual(json.headers, ["Authorization"]);
    assert.equal(json.signed, true);
    assert.equal(json.name, "private");
    assert.match(json.url, /^http:\/\/\*\*\*@127\.0\.0\.1:\d+\/status\?status=\*\*\*&token=\*\*\*/);
    assert.deepEqual(Object.keys(endpoint.metrics()).sort(), [
      "errors",
      "events",
      "failures",
      "pending",
      "statuses",
      "successes",
    ]);
  });
});

describe("strategyFor", () => {
  it("maps the configured strategy to a fresh Breaker or ExponentialBackoff", () => {
    let now = 5000;
    const breaker = strategyFor(parseEndpointConfig({ threshold: 2, backoff: "300ms" }), {
      now: () => now,
    });
    assert.ok(breaker instanceof Breaker);
    assert.equal(breaker.threshold, 2);
    assert.equal(breaker.backoffMs, 300);
    breaker.restore({ failures: 2, lastFailureAt: 4900 });
    assert.equal(breaker.proceed([]), 200, "uses the injected clock");
    now = 6000;
    assert.equal(breaker.proceed([]), 0);

    assert.ok(strategyFor(parseEndpointConfig({})) instanceof Breaker, "distribution's default");
    const defaults = strategyFor(parseEndpointConfig({})) as Breaker;
    assert.deepEqual([defaults.threshold, defaults.backoffMs], [10, 1000]);

    const exponential = strategyFor(
      parseEndpointConfig({ strategy: { type: "exponential", base: 10, factor: 20, max: "1s" } }),
      { random: () => 0.5 },
    );
    assert.ok(exponential instanceof ExponentialBackoff);
    assert.deepEqual([exponential.base, exponential.factor, exponential.max], [10, 20, 1000]);
    exponential.restore({ failures: 3, lastFailureAt: 0 });
    assert.equal(exponential.proceed([]), (10 + 20 * 4) / 2, "uses the injected random source");
  });
});

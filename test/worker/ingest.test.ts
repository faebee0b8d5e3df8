import { SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { MAX_EVENT_KEY_BYTES } from "../../src/event/envelope.ts";
import {
  enabledEndpoints,
  envelopeOf,
  errorOf,
  event,
  fixtures,
  type IngestResult,
  ingest,
  relay,
  secrets,
  v1,
  withEnv,
  withFreshIds,
} from "./relay-helpers.ts";

const blob = "application/octet-stream";
const manifest = "application/vnd.oci.image.manifest.v1+json";

type Ev = { id: string; action: string; target: { mediaType?: string } };

/** The events an endpoint keeps, per its ignore rules in vitest.project.ts. */
function keptBy(endpoint: string, events: Ev[]): Ev[] {
  if (endpoint === "manifests") {
    return events.filter((e) => e.action !== "pull" && e.target.mediaType !== blob);
  }
  if (endpoint === "rejecting") return events.filter((e) => e.action === "delete");
  return events;
}

describe("POST /v1/events: accepted", () => {
  it("answers 202 {accepted, endpoints} for every fixture, with ignore counts and duplicates", async () => {
    const all = await fixtures();
    const seen = new Set<string>();
    for (const fixture of all) {
      const response = await ingest(fixture.bytes);
      expect(response.status, fixture.name).toBe(202);
      const body = (await response.json()) as IngestResult;
      const events = JSON.parse(fixture.text).events as Ev[];
      expect(body.accepted).toBe(events.length);
      expect(body.endpoints.map((e) => e.name)).toEqual(enabledEndpoints);
      for (const outcome of body.endpoints) {
        const kept = keptBy(outcome.name, events);
        expect(outcome.ignored, `${fixture.name} ${outcome.name}`).toBe(
          events.length - kept.length,
        );
        // Registries resend after failures (fixtures 052.. are retries of one event): an id seen
        // before is a duplicate, never queued twice.
        const repeated = kept.filter((e) => seen.has(e.id)).length;
        expect(outcome.duplicates, `${fixture.name} ${outcome.name}`).toBe(repeated);
        expect(outcome.queued, `${fixture.name} ${outcome.name}`).toBe(kept.length - repeated);
      }
      for (const e of events) seen.add(e.id);
    }
    expect(seen.size).toBeLessThan(all.length); // the captures do contain resends
  }, 30_000); // ~80 ingests into 7 queues each: generous for a loaded 2-core machine

  it("counts the same envelope twice as duplicates (queued 0) on every endpoint", async () => {
    const body = envelopeOf(
      event("push", "dup/one", manifest),
      event("push", "dup/two", manifest),
      event("push", "dup/three", blob),
      event("delete", "dup/one"),
    );
    const first = (await (await ingest(body)).json()) as IngestResult;
    const second = (await (await ingest(body)).json()) as IngestResult;
    for (const [index, outcome] of first.endpoints.entries()) {
      const kept = 4 - outcome.ignored;
      expect(kept).toBeGreaterThan(0);
      expect(outcome).toMatchObject({ queued: kept, duplicates: 0 });
      expect(second.endpoints[index]).toEqual({ ...outcome, queued: 0, duplicates: kept });
    }
    expect(first.endpoints.find((e) => e.name === "manifests")?.ignored).toBe(1);
    expect(first.endpoints.find((e) => e.name === "rejecting")?.ignored).toBe(3);
  });

  it("applies each endpoint's ignore rules (media types and actions) and skips disabled ones", async () => {
    const response = await ingest(
      envelopeOf(
        event("push", "mix/a", blob),
        event("pull", "mix/a", manifest),
        event("push", "mix/a", manifest),
        event("delete", "mix/a"),
        event("mount", "mix/b", blob),
      ),
    );
    const body = (await response.json()) as IngestResult;
    expect(body.accepted).toBe(5);
    const byName = Object.fromEntries(body.endpoints.map((e) => [e.name, e]));
    expect(byName.inbox).toEqual({ name: "inbox", queued: 5, ignored: 0, duplicates: 0 });
    expect(byName.manifests).toEqual({ name: "manifests", queued: 2, ignored: 3, duplicates: 0 });
    expect(byName.sharded).toEqual({ name: "sharded", queued: 5, ignored: 0, duplicates: 0 });
    expect(byName.rejecting).toEqual({ name: "rejecting", queued: 1, ignored: 4, duplicates: 0 });
    expect(byName.off).toBeUndefined();
  });

  it("accepts application/json, the second configured token, and an envelope without events", async () => {
    const json = await ingest(envelopeOf(event("push", "json/a", manifest)), {
      "content-type": "application/json; charset=utf-8",
      authorization: `Bearer ${secrets.ingestToken2}`,
    });
    expect(json.status).toBe(202);
    const empty = await ingest('{"events": []}');
    expect(empty.status).toBe(202);
    const body = (await empty.json()) as IngestResult;
    expect(body.accepted).toBe(0);
    expect(body.endpoints.every((e) => e.queued === 0 && e.ignored === 0)).toBe(true);
  });
});

describe("POST /v1/events: rejected requests store nothing", () => {
  it("401 without a token, with a wrong token and with another scheme", async () => {
    const fixture = (await fixtures())[2]!;
    const none = await ingest(fixture.bytes, { authorization: "" });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    expect((await errorOf(none)).code).toBe("unauthorized");
    const wrong = await ingest(fixture.bytes, { authorization: `Bearer ${secrets.ingestToken}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const basic = await ingest(fixture.bytes, {
      authorization: `Basic ${btoa(`u:${secrets.ingestToken}`)}`,
    });
    expect(basic.status).toBe(401);
    const admin = await ingest(fixture.bytes, { authorization: `Bearer ${secrets.adminToken}` });
    expect(admin.status).toBe(401);
  });

  it("415 for other content types", async () => {
    for (const contentType of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/cloudevents+json",
    ]) {
      const response = await ingest(envelopeOf(event("push", "ct/a", manifest)), {
        "content-type": contentType,
      });
      expect(response.status, contentType).toBe(415);
      expect((await errorOf(response)).code).toBe("unsupported_media_type");
    }
  });

  it("413 from Content-Length and while streaming a body without one", async () => {
    const big = " ".repeat(64 * 1024 + 1); // RELAY_MAX_BODY_BYTES is 64 KiB in tests
    const declared = await ingest(big);
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).code).toBe("payload_too_large");

    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new TextEncoder().encode(" ".repeat(4096)));
        if (pulled >= 200) controller.close(); // 800 KiB if nobody stopped reading
      },
    });
    const streamed = await ingest(stream);
    expect(streamed.status).toBe(413);
    expect((await errorOf(streamed)).code).toBe("payload_too_large");
    expect(pulled).toBeLessThan(200);
  });

  it("400 with issue paths for an invalid envelope, invalid JSON and non-UTF-8 bytes", async () => {
    const missing = event("push", "bad/a", manifest) as Partial<ReturnType<typeof event>>;
    delete missing.timestamp;
    const invalid = await ingest(JSON.stringify({ events: [event("push", "ok/a"), missing] }));
    expect(invalid.status).toBe(400);
    const error = await errorOf(invalid);
    expect(error.code).toBe("invalid_envelope");
    expect(error.issues?.map((issue) => issue.path)).toContain("events[1].timestamp");

    const notJson = await ingest('{"events":[{"id":');
    expect(notJson.status).toBe(400);
    expect((await errorOf(notJson)).issues?.[0]?.path).toBe("");

    const latin1 = await ingest(new Uint8Array([0x7b, 0x22, 0x65, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
    expect(latin1.status).toBe(400);
    expect((await errorOf(latin1)).issues?.[0]?.message).toMatch(/UTF-8/i);
  });

  it("413 naming the path for an event id over MAX_EVENT_KEY_BYTES, and stores nothing", async () => {
    const tooLong = event("push", "big/a", manifest, "i".repeat(MAX_EVENT_KEY_BYTES + 1));
    const kept = event("push", "big/b", manifest);
    const response = await ingest(envelopeOf(kept, tooLong));
    expect(response.status).toBe(413);
    const error = await errorOf(response);
    expect(error.code).toBe("payload_too_large");
    expect(error.issues?.map((issue) => issue.path)).toEqual(["events[1].id"]);
    const accepted = (await (await ingest(envelopeOf(kept))).json()) as IngestResult;
    expect(accepted.endpoints.find((e) => e.name === "inbox")).toMatchObject({
      queued: 1,
      duplicates: 0,
    });
  });

  it("after every kind of rejection the same events are still new (nothing was stored)", async () => {
    const fixture = (await fixtures())[2]!; // a manifest push
    const { text } = withFreshIds(fixture, "rejected");
    const rejected = [
      await ingest(text, { authorization: "" }),
      await ingest(text, { authorization: "Bearer nope" }),
      await ingest(text, { "content-type": "text/plain" }),
      await ingest(`${text}${" ".repeat(64 * 1024)}`),
      await ingest(text.replace('"action"', '"actionx"')),
      await withEnv(
        { RELAY_ENDPOINTS: "[" },
        new Request(`${relay}/v1/events`, {
          method: "POST",
          body: text,
          headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": v1 },
        }),
      ),
    ];
    expect(rejected.map((r) => r.status)).toEqual([401, 401, 415, 413, 400, 500]);
    const accepted = (await (await ingest(text)).json()) as IngestResult;
    for (const outcome of accepted.endpoints) {
      const kept = outcome.name === "rejecting" ? 0 : 1; // rejecting only takes deletes
      expect(outcome, outcome.name).toMatchObject({ queued: kept, duplicates: 0 });
    }
  });
});

describe("POST /v1/events: Content-Encoding", () => {
  it("415 naming the coding for a gzip body (not a UTF-8 error), and stores nothing", async () => {
    const fixture = (await fixtures())[2]!;
    const { text } = withFreshIds(fixture, "gzip");
    const gzipped = await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    const response = await ingest(gzipped, { "content-encoding": "gzip" });
    expect(response.status).toBe(415);
    expect(response.headers.get("accept-encoding")).toBe("identity");
    const error = await errorOf(response);
    expect(error.code).toBe("unsupported_content_encoding");
    expect(error.message).toContain("gzip");
    for (const coding of ["br", "deflate", "x-custom"]) {
      const other = await ingest(text, { "content-encoding": coding });
      expect(other.status, coding).toBe(415);
    }
    const identity = await ingest(text, { "content-encoding": "identity" });
    expect(identity.status).toBe(202);
    const body = (await identity.json()) as IngestResult;
    expect(body.endpoints.find((e) => e.name === "inbox")).toMatchObject({
      queued: 1,
      duplicates: 0,
    });
  });
});

describe("POST /v1/events: an endpoint that targets this relay's own /v1/events", () => {
  /** A queue namespace that records what would have been enqueued. */
  function recordingQueues() {
    const enqueued: string[] = [];
    const namespace = {
      idFromName: (name: string) => name,
      get: (id: string) => ({
        enqueue: async (input: { events: unknown[] }) => {
          enqueued.push(id);
          return { queued: input.events.length, duplicates: 0 };
        },
      }),
    } as unknown as Cloudflare.Env["ENDPOINT_QUEUE"];
    return { enqueued, namespace };
  }

  const post = (endpoints: object[], namespace?: Cloudflare.Env["ENDPOINT_QUEUE"]) =>
    withEnv(
      {
        RELAY_ENDPOINTS: JSON.stringify(endpoints),
        ...(namespace ? { ENDPOINT_QUEUE: namespace } : {}),
      },
      new Request(`${relay}/v1/events`, {
        method: "POST",
        body: envelopeOf(event("push", "loop/a", manifest)),
        headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": v1 },
      }),
    );

  it.each([
    `${relay}/v1/events`,
    `${relay}/v1/events?via=relay`,
    `${relay}/v1/events/`,
    "http://RELAY.test:80/v1/events",
    `http://user:pass@relay.test/v1/events`,
  ])(
    "is a loop: %s answers 500 naming RELAY_ENDPOINTS[i].url and enqueues nothing",
    async (url) => {
      const { enqueued, namespace } = recordingQueues();
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      try {
        const response = await post(
          [
            { name: "elsewhere", url: "https://hooks.example.com/in" },
            { name: "self", url },
          ],
          namespace,
        );
        expect(response.status).toBe(500);
        const error = await errorOf(response);
        expect(error.code).toBe("invalid_config");
        expect(error.message).toContain("RELAY_ENDPOINTS[1].url");
        expect(error.issues).toEqual([
          {
            path: "RELAY_ENDPOINTS[1].url",
            message: "targets this relay's own /v1/events: a loop",
          },
        ]);
        expect(JSON.stringify(error)).not.toContain("pass");
        expect(enqueued).toEqual([]);
        expect(errors.mock.calls.flat().join(" ")).toContain("RELAY_ENDPOINTS[1].url");
      } finally {
        errors.mockRestore();
      }
    },
  );

  it.each([
    ["another scheme", "https://relay.test/v1/events"],
    ["another port", "http://relay.test:8080/v1/events"],
    ["another host", "http://relay.example/v1/events"],
    ["another path", `${relay}/hooks/v1/events`],
  ])("is not a loop: %s (%s)", async (_, url) => {
    const { enqueued, namespace } = recordingQueues();
    const response = await post([{ name: "near", url }], namespace);
    expect(response.status).toBe(202);
    expect(enqueued).toEqual(["near#0"]);
  });

  it("a disabled endpoint is not a loop", async () => {
    const { enqueued, namespace } = recordingQueues();
    const response = await post(
      [
        { name: "self", url: `${relay}/v1/events`, disabled: true },
        { name: "real", url: "https://hooks.example.com/in" },
      ],
      namespace,
    );
    expect(response.status).toBe(202);
    expect(enqueued).toEqual(["real#0"]);
  });

  it("stores nothing in the real queues", async () => {
    const fixture = (await fixtures())[2]!;
    const { text } = withFreshIds(fixture, "loop");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    let refused: Response;
    try {
      refused = await withEnv(
        { RELAY_ENDPOINTS: JSON.stringify([{ name: "inbox", url: `${relay}/v1/events` }]) },
        new Request(`${relay}/v1/events`, {
          method: "POST",
          body: text,
          headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": v1 },
        }),
      );
    } finally {
      errors.mockRestore();
    }
    expect(refused.status).toBe(500);
    const accepted = (await (await ingest(text)).json()) as IngestResult;
    expect(accepted.endpoints.find((e) => e.name === "inbox")).toMatchObject({
      queued: 1,
      duplicates: 0,
    });
  });
});

describe("POST /v1/events: anonymous ingest", () => {
  const request = () =>
    new Request(`${relay}/v1/events`, {
      method: "POST",
      body: envelopeOf(event("push", "anon/a", manifest)),
      headers: { "content-type": v1 },
    });

  it("is refused when no token is configured and RELAY_ALLOW_ANONYMOUS is not true", async () => {
    const response = await withEnv({ RELAY_INGEST_TOKENS: " , " }, request());
    expect(response.status).toBe(401);
    expect((await errorOf(response)).message).toMatch(/anonymous/);
  });

  it("is accepted with RELAY_ALLOW_ANONYMOUS=true", async () => {
    const response = await withEnv(
      { RELAY_INGEST_TOKENS: "", RELAY_ALLOW_ANONYMOUS: "true" },
      request(),
    );
    expect(response.status).toBe(202);
    expect(((await response.json()) as IngestResult).accepted).toBe(1);
  });
});

describe("POST /v1/events: 503 unless every enqueue committed", () => {
  it("answers 503 JSON with Retry-After when one queue fails, after awaiting all of them", async () => {
    const calls: string[] = [];
    const failing = {
      idFromName: (name: string) => name,
      get: (id: string) => ({
        enqueue: async (input: { events: unknown[] }) => {
          calls.push(id);
          await new Promise((r) => setTimeout(r, 5));
          if (id === "sharded#1" || id === "manifests#0") throw new Error("storage unavailable");
          return { queued: input.events.length, duplicates: 0 };
        },
      }),
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const repos = ["p/a", "p/b", "p/c", "p/d", "p/e", "p/f", "p/g", "p/h"];
      const response = await withEnv(
        { ENDPOINT_QUEUE: failing as unknown as Cloudflare.Env["ENDPOINT_QUEUE"] },
        new Request(`${relay}/v1/events`, {
          method: "POST",
          body: envelopeOf(...repos.map((repo) => event("push", repo, manifest))),
          headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": v1 },
        }),
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("2");
      const error = await errorOf(response);
      expect(error.code).toBe("enqueue_failed");
      expect(error.message).toContain("manifests");
      expect(calls).toContain("inbox#0");
      expect(calls.filter((id) => id.startsWith("sharded#")).length).toBeGreaterThan(1);
      expect(errors.mock.calls.flat().join(" ")).toContain("storage unavailable");
    } finally {
      errors.mockRestore();
    }
  });
});

describe("routing", () => {
  it("404 and 405 are JSON", async () => {
    const missing = await fetchRelay("/nope");
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("not_found");
    const wrongMethod = await fetchRelay("/v1/events");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect((await errorOf(wrongMethod)).code).toBe("method_not_allowed");
  });

  it("GET /healthz needs no auth", async () => {
    const response = await fetchRelay("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect((await fetchRelay("/healthz", { method: "POST" })).status).toBe(405);
  });
});

function fetchRelay(path: string, init: RequestInit = {}) {
  return SELF.fetch(`${relay}${path}`, init);
}

import { SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { partitionOf } from "../../src/endpoint/endpoint.ts";
import type { EndpointList, EndpointView, EventPage } from "../../worker/admin-api.ts";
import {
  admin,
  envelopeOf,
  errorOf,
  event,
  eventually,
  ingest,
  relay,
  secrets,
  withEnv,
} from "./relay-helpers.ts";

const manifest = "application/vnd.oci.image.manifest.v1+json";

// The admin API's own body types: what the console reads is what these tests read.
type Snapshot = EndpointView;
type Page = EventPage;

const json = async <T>(response: Response, status = 200): Promise<T> => {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
};

const routes: [string, string][] = [
  ["GET", "/v1/endpoints"],
  ["GET", "/v1/endpoints/inbox"],
  ["GET", "/v1/endpoints/inbox/events?state=pending"],
  ["POST", "/v1/endpoints/inbox/dead-letters/replay"],
  ["DELETE", "/v1/endpoints/inbox/dead-letters"],
  ["POST", "/v1/endpoints/inbox/pause"],
  ["POST", "/v1/endpoints/inbox/resume"],
  ["GET", "/metrics"],
];

describe("admin auth", () => {
  it.each(routes)("%s %s needs the admin bearer token", async (method, path) => {
    const none = await SELF.fetch(`${relay}${path}`, { method });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    expect((await errorOf(none)).code).toBe("unauthorized");
    const ingestToken = await SELF.fetch(`${relay}${path}`, {
      method,
      headers: { authorization: `Bearer ${secrets.ingestToken}` },
    });
    expect(ingestToken.status).toBe(401);
    expect(ingestToken.headers.get("www-authenticate")).toContain("invalid_token");
  });

  it("answers a malformed Authorization header with 401 JSON and invalid_request", async () => {
    for (const authorization of [
      `Basic ${btoa("admin:x")}`,
      "Bearer a b",
      "Bearer a,b",
      "Bearer",
    ]) {
      const response = await SELF.fetch(`${relay}/v1/endpoints`, { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(
        'Bearer realm="registry-relay-admin", error="invalid_request"',
      );
      expect((await errorOf(response)).code).toBe("unauthorized");
    }
    // The token's scheme is case-insensitive, as before.
    const lower = await SELF.fetch(`${relay}/v1/endpoints`, {
      headers: { authorization: `bearer ${secrets.adminToken}` },
    });
    expect(lower.status).toBe(200);
  });

  it("is closed (403) when RELAY_ADMIN_TOKEN is not set", async () => {
    const response = await withEnv(
      { RELAY_ADMIN_TOKEN: "" },
      new Request(`${relay}/v1/endpoints`, { headers: { authorization: "Bearer " } }),
    );
    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe("admin_disabled");
  });
});

describe("GET /v1/endpoints", () => {
  it("lists every endpoint with redacted config, state and counters", async () => {
    const { endpoints } = await json<EndpointList>(await admin("/v1/endpoints"));
    expect(endpoints.map((e) => e.name)).toEqual([
      "inbox",
      "manifests",
      "sharded",
      "rejecting",
      "off",
    ]);
    const [inbox, , sharded, , off] = endpoints;
    expect(inbox!.config).toMatchObject({
      name: "inbox",
      headers: ["Authorization", "X-Api-Key"],
      signed: true,
      timeout: 2000,
      partitions: 1,
      // The limits in effect: no maxAge configured is the 3-day default, not "none".
      maxAttempts: null,
      maxAge: 3 * 24 * 3_600_000,
    });
    expect(String(inbox!.config.url)).toMatch(/\/inbox\/worker-inbox\?token=\*\*\*$/);
    expect(off!.state).toBe("disabled");
    expect(String(off!.config.url)).not.toContain(secrets.urlPassword);
    expect(sharded!.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    for (const endpoint of endpoints) {
      expect(endpoint).toHaveProperty("depth");
      expect(endpoint).toHaveProperty("oldestPendingAgeMs");
      expect(endpoint).toHaveProperty("deadLetters");
      expect(endpoint).toHaveProperty("lastError");
      expect(endpoint.metrics).toHaveProperty("events");
      expect(endpoint.metrics).toHaveProperty("statuses");
    }
  });

  it("shows the retry strategy, the latency histogram and each partition", async () => {
    const { endpoints } = await json<EndpointList>(await admin("/v1/endpoints"));
    const inbox = endpoints.find((e) => e.name === "inbox")!;
    // distribution's defaults: threshold 10, backoff 1 s, as a breaker.
    expect(inbox.config).toMatchObject({
      threshold: 10,
      backoff: 1000,
      strategy: { type: "breaker", threshold: 10, backoff: 1000 },
      mediaType: "application/vnd.docker.distribution.events.v1+json",
    });
    expect(inbox.latency.boundsMs.length).toBeGreaterThan(0);
    expect(inbox.latency.buckets).toHaveLength(inbox.latency.boundsMs.length);
    expect(inbox.latency).toHaveProperty("sum");
    expect(inbox.latency).toHaveProperty("count");
    const sharded = endpoints.find((e) => e.name === "sharded")!;
    expect(sharded.partitions).toHaveLength(4);
    for (const part of sharded.partitions) {
      expect(Object.keys(part).sort()).toEqual(
        [
          "deadLetters",
          "depth",
          "lastError",
          "lastStatus",
          "nextAttemptAt",
          "oldestPendingAgeMs",
          "partition",
          "paused",
        ].sort(),
      );
    }
  });

  it("GET /v1/endpoints/:name returns one endpoint; unknown names are 404 JSON", async () => {
    const one = await json<Snapshot>(await admin("/v1/endpoints/manifests"));
    expect(one.name).toBe("manifests");
    expect(one.config.ignore).toEqual({
      mediatypes: ["application/octet-stream"],
      actions: ["pull"],
    });
    const missing = await admin("/v1/endpoints/nope");
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("unknown_endpoint");
    expect((await admin("/v1/endpoints/nope/pause", { method: "POST" })).status).toBe(404);
  });
});

describe("pause, queue listing across partitions, resume", () => {
  it("pauses every partition, pages the pending events, then resumes and drains", async () => {
    const paused = await json<{ state: string }>(
      await admin("/v1/endpoints/sharded/pause", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "maintenance window" }),
      }),
    );
    expect(paused.state).toBe("paused");
    const repos = ["part/a", "part/b", "part/c", "part/d", "part/e", "part/f", "part/g"];
    const events = repos.map((repo) => event("push", repo, manifest));
    expect((await ingest(envelopeOf(...events))).status).toBe(202);

    const snapshot = await json<Snapshot>(await admin("/v1/endpoints/sharded"));
    expect(snapshot.state).toBe("paused");
    expect(snapshot.pauseReason).toBe("maintenance window");
    expect(snapshot.depth).toBe(7);
    expect(snapshot.oldestPendingAgeMs).not.toBeNull();
    expect(snapshot.partitions.reduce((n, p) => n + p.depth, 0)).toBe(7);
    expect(
      new Set(snapshot.partitions.filter((p) => p.depth > 0).map((p) => p.partition)).size,
    ).toBeGreaterThan(1);

    // Page 2 at a time through all partitions.
    const seen: Page["items"] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string = `state=pending&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const body: Page = await json<Page>(await admin(`/v1/endpoints/sharded/events?${query}`));
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    expect(seen.map((item) => item.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const item of seen) expect(item.partition).toBe(partitionOf(item.repository, 4));

    const resumed = await json<{ state: string }>(
      await admin("/v1/endpoints/sharded/resume", { method: "POST" }),
    );
    expect(resumed.state).toBe("active");
    const drained = await eventually(async () => {
      const s = await json<Snapshot>(await admin("/v1/endpoints/sharded"));
      return s.depth === 0 ? s : undefined;
    });
    expect(drained.state).toBe("active");
    expect(drained.metrics.successes).toBeGreaterThanOrEqual(7);
  });

  it("rejects a bad state, limit, cursor or pause body with 400 and issue paths", async () => {
    const state = await admin("/v1/endpoints/inbox/events?state=done");
    expect(state.status).toBe(400);
    expect((await errorOf(state)).issues?.[0]?.path).toBe("state");
    const limit = await admin("/v1/endpoints/inbox/events?limit=0");
    expect((await errorOf(limit)).issues?.[0]?.path).toBe("limit");
    const cursor = await admin("/v1/endpoints/inbox/events?cursor=bm9wZQ");
    expect(cursor.status).toBe(400);
    expect((await errorOf(cursor)).issues?.[0]?.path).toBe("cursor");
    const reason = await admin("/v1/endpoints/inbox/pause", {
      method: "POST",
      body: '{"reason": 5}',
    });
    expect(reason.status).toBe(400);
    expect((await errorOf(reason)).issues?.[0]?.path).toBe("reason");
    const notJson = await admin("/v1/endpoints/inbox/pause", { method: "POST", body: "{" });
    expect((await errorOf(notJson)).code).toBe("invalid_json");
  });
});

/** base64url of a JSON value, as the admin API encodes its cursors. */
const cursorOf = (value: unknown) =>
  btoa(typeof value === "string" ? value : JSON.stringify(value))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

describe("bad admin input is a 400 naming the parameter, never a 503", () => {
  it.each([
    ["a partition cursor that is SQL", cursorOf([0, "1 OR 1=1"])],
    ["a negative partition cursor", cursorOf([0, "-5"])],
    ["a 20-digit partition cursor", cursorOf([0, "12345678901234567890"])],
    ["a 16-digit partition cursor", cursorOf([0, "1234567890123456"])],
    ["an empty partition cursor", cursorOf([0, ""])],
    ["a numeric partition cursor", cursorOf([0, 5])],
    ["a 20-digit partition", cursorOf("[12345678901234567890,null]")],
    ["a negative partition", cursorOf([-1, null])],
    ["a fractional partition", cursorOf([0.5, null])],
    ["a partition past the last", cursorOf([4, null])],
    ["one element", cursorOf([0])],
    ["an object", cursorOf({ partition: 0, cursor: null })],
    ["not JSON", cursorOf("[0,")],
    ["-5 as the cursor itself", "-5"],
    ["a 20-digit number as the cursor itself", "12345678901234567890"],
    ["not base64", "!!!"],
    ["non-ASCII", encodeURIComponent("é")],
  ])("cursor: %s", async (_, cursor) => {
    for (const name of ["inbox", "sharded"]) {
      const response = await admin(`/v1/endpoints/${name}/events?state=pending&cursor=${cursor}`);
      expect(response.status, `${name} ${cursor}`).toBe(400);
      expect(response.headers.get("retry-after")).toBeNull();
      const error = await errorOf(response);
      expect(error.issues?.[0]?.path).toBe("cursor");
    }
  });

  it("a cursor the API returned is still accepted, and one at the last seq answers an empty page", async () => {
    const ok = await admin(`/v1/endpoints/sharded/events?cursor=${cursorOf([3, null])}`);
    expect(ok.status).toBe(200);
    const last = await admin(
      `/v1/endpoints/inbox/events?cursor=${cursorOf([0, "999999999999999"])}`,
    );
    expect(last.status).toBe(200);
    expect(((await last.json()) as Page).items).toEqual([]);
  });

  it.each([
    ["limit", "limit="],
    ["limit", "limit=-1"],
    ["limit", "limit=1.5"],
    ["limit", "limit=1e2"],
    ["limit", "limit=501"],
    ["limit", "limit=12345678901234567890"],
    ["limit", "limit=abc"],
    ["state", "state="],
    ["state", "state=DEAD"],
    ["state", "state=pending%20OR%201%3D1"],
  ])("%s: %s", async (param, query) => {
    const response = await admin(`/v1/endpoints/inbox/events?${query}`);
    expect(response.status, query).toBe(400);
    expect(response.headers.get("retry-after")).toBeNull();
    expect((await errorOf(response)).issues?.map((issue) => issue.path)).toContain(param);
  });

  it.each([
    ["ids", { ids: "x" }],
    ["ids", { ids: [""] }],
    ["ids", { ids: [null] }],
    ["ids", { ids: [{ id: "x" }] }],
    ["ids", { ids: Array.from({ length: 1001 }, (_, i) => `id-${i}`) }],
    ["", []],
    ["", "replay"],
    ["", 5],
  ])("replay body: %s = %j", async (path, body) => {
    const response = await admin("/v1/endpoints/sharded/dead-letters/replay", {
      method: "POST",
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).issues?.[0]?.path).toBe(path);
  });

  it("pause reason: too long or not a string", async () => {
    for (const reason of ["x".repeat(501), 5, ["a"], null]) {
      const response = await admin("/v1/endpoints/inbox/pause", {
        method: "POST",
        body: JSON.stringify({ reason }),
      });
      expect(response.status, JSON.stringify(reason).slice(0, 20)).toBe(400);
      expect((await errorOf(response)).issues?.[0]?.path).toBe("reason");
    }
    const snapshot = await json<Snapshot>(await admin("/v1/endpoints/inbox"));
    expect(snapshot.state).not.toBe("paused");
  });

  it("413 for an admin body over 64 KiB, declared or streamed", async () => {
    const big = JSON.stringify({ reason: "x".repeat(64 * 1024) });
    const declared = await admin("/v1/endpoints/inbox/pause", { method: "POST", body: big });
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).code).toBe("payload_too_large");
    const streamed = await admin("/v1/endpoints/inbox/pause", {
      method: "POST",
      body: new Blob([big]).stream(),
    });
    expect(streamed.status).toBe(413);
    expect((await errorOf(streamed)).code).toBe("payload_too_large");
  });

  it("maps an input fault the queue itself reports (QueueInputError over RPC) to 400", async () => {
    // What workerd delivers for a QueueInputError thrown inside the Durable Object: a plain
    // Error, class lost, its name folded into the message.
    const remote = (message: string) =>
      Object.assign(new Error(message), { remote: true }) as Error;
    const failing = (error: Error) =>
      ({
        idFromName: (name: string) => name,
        get: () => ({
          list: async () => {
            throw error;
          },
          replay: async () => {
            throw error;
          },
        }),
      }) as unknown as Cloudflare.Env["ENDPOINT_QUEUE"];
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const listed = await withEnv(
        {
          ENDPOINT_QUEUE: failing(
            remote("QueueInputError: cursor: must be the nextCursor of a previous page"),
          ),
        },
        new Request(`${relay}/v1/endpoints/inbox/events`, {
          headers: { authorization: `Bearer ${secrets.adminToken}` },
        }),
      );
      expect(listed.status).toBe(400);
      expect(listed.headers.get("retry-after")).toBeNull();
      expect((await errorOf(listed)).issues).toEqual([
        { path: "cursor", message: "must be the nextCursor of a previous page" },
      ]);

      const replayed = await withEnv(
        { ENDPOINT_QUEUE: failing(remote("QueueInputError: ids[2]: must be a non-empty string")) },
        new Request(`${relay}/v1/endpoints/inbox/dead-letters/replay`, {
          method: "POST",
          body: "{}",
          headers: { authorization: `Bearer ${secrets.adminToken}` },
        }),
      );
      expect(replayed.status).toBe(400);
      expect((await errorOf(replayed)).issues?.[0]?.path).toBe("ids[2]");

      // Anything else from the queue is still "try again".
      const down = await withEnv(
        { ENDPOINT_QUEUE: failing(remote("Error: storage unavailable")) },
        new Request(`${relay}/v1/endpoints/inbox/events`, {
          headers: { authorization: `Bearer ${secrets.adminToken}` },
        }),
      );
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toBe("1");
      expect((await errorOf(down)).code).toBe("queue_unavailable");
    } finally {
      errors.mockRestore();
    }
  });
});

describe("dead letters", () => {
  it("lists, replays (by id and all) and purges dead letters", async () => {
    const deletes = [
      event("delete", "dead/a"),
      event("delete", "dead/b"),
      event("delete", "dead/c"),
    ];
    expect((await ingest(envelopeOf(...deletes))).status).toBe(202);
    const snapshot = await eventually(async () => {
      const s = await json<Snapshot>(await admin("/v1/endpoints/rejecting"));
      return s.deadLetters === 3 ? s : undefined;
    });
    expect(snapshot.lastStatus).toBe(422);
    expect(snapshot.lastError).toMatch(/422/);

    const dead = await json<Page>(await admin("/v1/endpoints/rejecting/events?state=dead"));
    expect(dead.items.map((item) => item.id)).toEqual(deletes.map((e) => e.id));
    expect(dead.items[0]?.lastStatus).toBe(422);

    const one = await json<{ replayed: number }>(
      await admin("/v1/endpoints/rejecting/dead-letters/replay", {
        method: "POST",
        body: JSON.stringify({ ids: [deletes[1]!.id] }),
      }),
    );
    expect(one.replayed).toBe(1);
    // It fails again (422 is final) and comes back.
    await eventually(async () => {
      const s = await json<Snapshot>(await admin("/v1/endpoints/rejecting"));
      return s.deadLetters === 3 && s.depth === 0 ? s : undefined;
    });
    const all = await json<{ replayed: number }>(
      await admin("/v1/endpoints/rejecting/dead-letters/replay", { method: "POST" }),
    );
    expect(all.replayed).toBe(3);
    await eventually(async () => {
      const s = await json<Snapshot>(await admin("/v1/endpoints/rejecting"));
      return s.deadLetters === 3 && s.depth === 0 ? s : undefined;
    });

    const badIds = await admin("/v1/endpoints/rejecting/dead-letters/replay", {
      method: "POST",
      body: JSON.stringify({ ids: [1, 2] }),
    });
    expect(badIds.status).toBe(400);
    expect((await errorOf(badIds)).issues?.[0]?.path).toBe("ids");

    const purged = await json<{ purged: number }>(
      await admin("/v1/endpoints/rejecting/dead-letters", { method: "DELETE" }),
    );
    expect(purged.purged).toBe(3);
    const after = await json<Snapshot>(await admin("/v1/endpoints/rejecting"));
    expect(after.deadLetters).toBe(0);
  }, 20_000);
});

describe("admin routing", () => {
  it("405 JSON with Allow for unsupported methods", async () => {
    const put = await admin("/v1/endpoints", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD");
    const getReplay = await admin("/v1/endpoints/inbox/dead-letters/replay");
    expect(getReplay.status).toBe(405);
    expect(getReplay.headers.get("allow")).toBe("POST");
    const postDead = await admin("/v1/endpoints/inbox/dead-letters", { method: "POST" });
    expect(postDead.headers.get("allow")).toBe("DELETE");
    expect((await errorOf(postDead)).code).toBe("method_not_allowed");
    const postMetrics = await admin("/metrics", { method: "POST" });
    expect(postMetrics.status).toBe(405);
    expect(postMetrics.headers.get("allow")).toBe("GET, HEAD");
    const getPause = await admin("/v1/endpoints/inbox/pause");
    expect(getPause.headers.get("allow")).toBe("POST");
    // Authentication still comes first on admin paths.
    expect((await SELF.fetch(`${relay}/v1/endpoints`, { method: "PUT" })).status).toBe(401);
    const head = await admin("/v1/endpoints", { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("404 JSON for unknown admin paths", async () => {
    const response = await admin("/v1/endpoints/inbox/nothing/here");
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("not_found");
  });
});

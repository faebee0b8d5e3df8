// EndpointQueue delivery in workerd: order, dedup, byte-exact envelopes, retries driven by alarms,
// Retry-After, final statuses, limits and dead letters, batching and signing.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventTexts, parseEnvelope } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { verifyWebhook } from "../../src/webhooks/webhooks.ts";
import { loadFixtures } from "../support/env.ts";
import {
  endpointConfig,
  enqueueTexts,
  headerValue,
  makeEvent,
  openQueue,
  perEvent,
  type Received,
  type Receiver,
  settle,
  signingSecret,
  sleep,
  uniqueName,
  until,
  useReceiver,
  v1,
  v2,
} from "./queue-support.ts";

let receiver: Receiver;
useReceiver((fresh) => {
  receiver = fresh;
});

const idsOf = (posts: Received[]) => posts.flatMap((post) => post.ids);

describe("EndpointQueue: order, dedup and the registry's bytes", () => {
  it("delivers every fixture once, in acceptance order, byte for byte with the same media type", async () => {
    const fixtures = await loadFixtures();
    const name = uniqueName("fixtures");
    const stub = await openQueue([endpointConfig(name)]);
    const firstBody = new Map<string, string>();
    let duplicates = 0;
    for (const fixture of fixtures) {
      // As ingest does: each event's text cut from the registry's body.
      const envelope = parseEnvelope(fixture.bytes);
      const { events } = envelope;
      const texts = eventTexts(fixture.bytes, envelope, { mediaType: v1 });
      const result = await stub.enqueue({
        endpoint: name,
        partition: 0,
        mediaType: v1,
        events: events.map((event, i) => ({
          id: event.id,
          action: event.action,
          repository: event.target.repository,
          text: texts[i] as string,
        })),
      });
      duplicates += result.duplicates;
      for (const event of events)
        if (!firstBody.has(event.id)) firstBody.set(event.id, fixture.text);
    }
    // The captures include the registry's own resends after timeouts: same ids, queued once.
    expect(duplicates).toBe(fixtures.length - firstBody.size);
    expect(duplicates).toBeGreaterThan(0);
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(firstBody.size), 8000);
    const posts = receiver.on(`/${name}`);
    expect(idsOf(posts)).toEqual([...firstBody.keys()]);
    for (const post of posts) {
      expect(post.contentType).toBe(v1);
      expect(post.body).toBe(firstBody.get(post.ids[0] ?? ""));
    }
    const status = await stub.status();
    expect(status).toMatchObject({ depth: 0, deadLetters: 0, lastStatus: 200, lastError: null });
    expect(status.metrics.events).toBe(firstBody.size);
    expect(status.metrics.successes).toBe(firstBody.size);
    expect(status.metrics.statuses).toEqual({ "200 OK": firstBody.size });
    expect(status.latency.count).toBe(firstBody.size);
    expect(status.latency.buckets.at(-1)).toBe(firstBody.size);
    await settle(stub);
  });

  it("keeps acceptance order over many events and calls, and drops repeated ids", async () => {
    const name = uniqueName("order");
    const stub = await openQueue([endpointConfig(name)]);
    const events = Array.from({ length: 60 }, (_, i) => makeEvent(`team/repo-${i % 7}`));
    const accepted: string[] = [];
    for (let i = 0; i < events.length; i += 6) {
      const chunk = events.slice(i, i + 6);
      // Each call repeats an id within itself and one from the previous call.
      const repeated = [...chunk, chunk[0] as Event, ...(i > 0 ? [events[i - 1] as Event] : [])];
      const result = await enqueueTexts(stub, {
        endpoint: name,
        partition: 0,
        mediaType: v1,
        events: repeated,
      });
      expect(result).toEqual({ queued: chunk.length, duplicates: repeated.length - chunk.length });
      accepted.push(...chunk.map((e) => e.id));
    }
    await until(stub, () => expect(idsOf(receiver.on(`/${name}`))).toHaveLength(60), 8000);
    expect(idsOf(receiver.on(`/${name}`))).toEqual(accepted);
    // An id delivered already is still remembered.
    const again = await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    expect(again).toEqual({ queued: 0, duplicates: 60 });
    await sleep(30);
    expect(idsOf(receiver.on(`/${name}`))).toHaveLength(60);
    await settle(stub);
  });
});

describe("EndpointQueue: retries driven by alarms", () => {
  it("retries a failing endpoint (500s, a reset) until it recovers, keeping the head first", async () => {
    const name = uniqueName("flaky");
    const stub = await openQueue([
      endpointConfig(name, { headers: { Authorization: [headerValue] } }),
    ]);
    receiver.answer(`/${name}`, (n) => {
      if (n === 3) throw new TypeError("connection reset by peer");
      return new Response(null, { status: n <= 4 ? 500 : 200 });
    });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(7));
    const posts = receiver.on(`/${name}`);
    const [e1, e2, e3] = events.map((e) => e.id);
    expect(idsOf(posts)).toEqual([e1, e1, e1, e1, e1, e2, e3]);
    // Breaker(threshold 1, backoff 10ms): after a failure the next attempt waits the backoff.
    for (let i = 1; i < 5; i++) {
      expect((posts[i] as Received).at - (posts[i - 1] as Received).at).toBeGreaterThanOrEqual(9);
    }
    for (const post of posts) expect(post.headers.get("authorization")).toBe(headerValue);
    const status = await stub.status();
    expect(status.metrics).toMatchObject({ successes: 3, failures: 3, errors: 1, deadLettered: 0 });
    expect(status.metrics.statuses).toEqual({ "500 Internal Server Error": 3, "200 OK": 3 });
    expect(status).toMatchObject({ depth: 0, lastStatus: 200, lastError: null });
    await settle(stub);
  });

  it("persists attempts, last status and a secret-free last error while the head waits", async () => {
    const name = uniqueName("waiting");
    const stub = await openQueue([
      endpointConfig(name, {
        headers: { Authorization: [headerValue] },
        secret: signingSecret,
        strategy: { type: "breaker", threshold: 1, backoff: "10s" },
      }),
    ]);
    receiver.answer(`/${name}`, () => new Response("no", { status: 502 }));
    const events = [makeEvent(), makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => {
      const { items } = await stub.list({ state: "pending" });
      expect(items[0]?.attempts).toBe(1);
    });
    const { items } = await stub.list({ state: "pending" });
    const [head, second] = items;
    expect(head).toMatchObject({ id: events[0]?.id, attempts: 1, lastStatus: 502 });
    expect(head?.lastError).toContain("502 Bad Gateway");
    expect((head?.nextAttemptAt ?? 0) - Date.now()).toBeGreaterThan(8000);
    expect(second).toMatchObject({ id: events[1]?.id, attempts: 0, lastStatus: null });
    const status = await stub.status();
    expect(status.nextAttemptAt).toBe(head?.nextAttemptAt);
    expect(status.lastError).toContain("502");
    const shown = JSON.stringify([status, items]);
    expect(shown).not.toContain(headerValue);
    expect(shown).not.toContain(signingSecret);
    // Strict FIFO: nothing behind the waiting head moves.
    await sleep(40);
    expect(idsOf(receiver.on(`/${name}`))).toEqual([events[0]?.id]);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(head?.nextAttemptAt);
    await settle(stub);
  });

  it("honours Retry-After", async () => {
    const name = uniqueName("retry-after");
    const stub = await openQueue([endpointConfig(name)]);
    receiver.answer(`/${name}`, (n) =>
      n === 1
        ? new Response(null, { status: 503, headers: { "retry-after": "1" } })
        : new Response(null, { status: 200 }),
    );
    const event = makeEvent();
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: [event] });
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(2), 5000);
    const [first, second] = receiver.on(`/${name}`) as [Received, Received];
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
    expect(second.ids).toEqual([event.id]);
    await settle(stub);
  });

  it("retries 408 and 429 but dead-letters other final 4xx and moves on", async () => {
    const name = uniqueName("final");
    const stub = await openQueue([endpointConfig(name)]);
    const events = Array.from({ length: 6 }, () => makeEvent());
    const [e1, e2, e3, e4, e5, e6] = events.map((e) => e.id) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    receiver.answer(
      `/${name}`,
      perEvent({ [e1]: [400], [e2]: [408], [e3]: [404], [e4]: [429, 429], [e5]: [422] }),
    );
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => expect((await stub.status()).depth).toBe(0));
    expect(idsOf(receiver.on(`/${name}`))).toEqual([e1, e2, e2, e3, e4, e4, e4, e5, e6]);
    const dead = await stub.list({ state: "dead" });
    expect(
      dead.items.map((item) => [item.id, item.reason, item.lastStatus, item.attempts]),
    ).toEqual([
      [e1, "final", 400, 1],
      [e3, "final", 404, 1],
      [e5, "final", 422, 1],
    ]);
    const status = await stub.status();
    expect(status).toMatchObject({ paused: false, deadLetters: 3 });
    expect(status.metrics.deadLettered).toBe(3);
    await settle(stub);
  });

  it("410 Gone dead-letters the head and pauses the endpoint until resumed", async () => {
    const name = uniqueName("gone");
    const stub = await openQueue([endpointConfig(name)]);
    const events = [makeEvent(), makeEvent(), makeEvent()];
    const [e1, e2, e3] = events.map((e) => e.id) as [string, string, string];
    receiver.answer(`/${name}`, perEvent({ [e1]: [410] }));
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => expect((await stub.status()).paused).toBe(true));
    const status = await stub.status();
    expect(status).toMatchObject({
      pauseReason: "410 Gone",
      depth: 2,
      deadLetters: 1,
      lastStatus: 410,
    });
    expect(status.nextAttemptAt).toBeNull();
    const dead = await stub.list({ state: "dead" });
    expect(dead.items.map((i) => [i.id, i.reason, i.lastStatus])).toEqual([[e1, "final", 410]]);
    // Paused: nothing moves, however often the alarm is run.
    for (let i = 0; i < 5; i++) {
      await until(stub, () => undefined);
      await sleep(10);
    }
    expect(idsOf(receiver.on(`/${name}`))).toEqual([e1]);
    await stub.resume();
    await until(stub, () => expect(idsOf(receiver.on(`/${name}`))).toEqual([e1, e2, e3]));
    expect(await stub.status()).toMatchObject({ paused: false, depth: 0, deadLetters: 1 });
    await settle(stub);
  });
});

describe("EndpointQueue: limits, dead letters and replay", () => {
  it("maxAttempts dead-letters with the last status and error; replay delivers them in order", async () => {
    const name = uniqueName("max-attempts");
    const stub = await openQueue([endpointConfig(name, { maxAttempts: 3 })]);
    let healthy = false;
    receiver.answer(`/${name}`, () => new Response(null, { status: healthy ? 200 : 500 }));
    const events = [makeEvent(), makeEvent()];
    const [e1, e2] = events.map((e) => e.id) as [string, string];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => expect((await stub.status()).deadLetters).toBe(2));
    expect(idsOf(receiver.on(`/${name}`))).toEqual([e1, e1, e1, e2, e2, e2]);
    const dead = await stub.list({ state: "dead" });
    for (const item of dead.items) {
      expect(item).toMatchObject({ reason: "max-attempts", attempts: 3, lastStatus: 500 });
      expect(item.lastError).toContain("500 Internal Server Error");
      expect(item.deadAt).toBeTypeOf("number");
    }
    expect(dead.items.map((i) => i.id)).toEqual([e1, e2]);
    healthy = true;
    expect(await stub.replay({})).toEqual({ replayed: 2 });
    await until(stub, () => expect(idsOf(receiver.on(`/${name}`)).slice(6)).toEqual([e1, e2]));
    const status = await stub.status();
    expect(status).toMatchObject({ depth: 0, deadLetters: 0 });
    expect(status.metrics).toMatchObject({ deadLettered: 2, failures: 6, successes: 2 });
    await settle(stub);
  });

  it("maxAge dead-letters; replay moves chosen dead letters to the tail in original order", async () => {
    const name = uniqueName("max-age");
    const stub = await openQueue([endpointConfig(name, { maxAge: "150ms" })]);
    let healthy = false;
    receiver.answer(`/${name}`, () => new Response(null, { status: healthy ? 200 : 503 }));
    const events = [makeEvent(), makeEvent(), makeEvent()];
    const [e1, e2, e3] = events.map((e) => e.id) as [string, string, string];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => expect((await stub.status()).deadLetters).toBe(3));
    const dead = await stub.list({ state: "dead" });
    expect(dead.items.map((i) => [i.id, i.reason, i.lastStatus])).toEqual([
      [e1, "max-age", 503],
      [e2, "max-age", 503],
      [e3, "max-age", 503],
    ]);
    for (const item of dead.items) expect(item.attempts).toBeGreaterThanOrEqual(1);
    const sent = receiver.on(`/${name}`).length;
    healthy = true;
    // New work arrives while paused; replayed dead letters queue behind it.
    await stub.pause("replay test");
    const e4 = makeEvent();
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: [e4] });
    expect(await stub.replay({ ids: [e3, e1, "no-such-id"] })).toEqual({ replayed: 2 });
    const pending = await stub.list({ state: "pending" });
    expect(pending.items.map((i) => [i.id, i.attempts])).toEqual([
      [e4.id, 0],
      [e1, 0],
      [e3, 0],
    ]);
    await stub.resume();
    await until(stub, () =>
      expect(idsOf(receiver.on(`/${name}`)).slice(sent)).toEqual([e4.id, e1, e3]),
    );
    expect((await stub.list({ state: "dead" })).items.map((i) => i.id)).toEqual([e2]);
    await settle(stub);
  });
});

describe("EndpointQueue: batches and signing", () => {
  it("sends up to maxBatch events per POST, in order", async () => {
    const name = uniqueName("batch");
    const stub = await openQueue([endpointConfig(name, { maxBatch: 3 })]);
    const events = Array.from({ length: 7 }, () => makeEvent());
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, () => expect(idsOf(receiver.on(`/${name}`))).toHaveLength(7));
    const posts = receiver.on(`/${name}`);
    expect(posts.map((p) => p.ids.length)).toEqual([3, 3, 1]);
    expect(idsOf(posts)).toEqual(events.map((e) => e.id));
    for (const post of posts) {
      expect(post.contentType).toBe(v1);
      expect(parseEnvelope(post.body).events.map((e) => e.id)).toEqual(post.ids);
    }
    await settle(stub);
  });

  it("never mixes media types in one batch and sends each on its own line", async () => {
    const name = uniqueName("lines");
    const stub = await openQueue([endpointConfig(name, { maxBatch: 10 })]);
    await stub.pause("fill first");
    const first = [makeEvent(), makeEvent()];
    const second = [makeEvent(), makeEvent()];
    const third = [makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: first });
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v2, events: second });
    await enqueueTexts(stub, {
      endpoint: name,
      partition: 0,
      mediaType: "application/json",
      events: third,
    });
    await stub.resume();
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(3));
    const posts = receiver.on(`/${name}`);
    expect(posts.map((p) => [p.contentType, p.ids])).toEqual([
      [v1, first.map((e) => e.id)],
      [v2, second.map((e) => e.id)],
      // Plain JSON goes out on the endpoint's configured line (v1 by default).
      [v1, third.map((e) => e.id)],
    ]);
    await settle(stub);
  });

  it("signs with Standard Webhooks headers when the endpoint has a secret", async () => {
    const name = uniqueName("signed");
    const plain = uniqueName("plain");
    const stub = await openQueue([
      endpointConfig(name, { secret: signingSecret }),
      endpointConfig(plain),
    ]);
    const unsigned = await openQueue([endpointConfig(plain)]);
    const event = makeEvent();
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: [event] });
    await enqueueTexts(unsigned, {
      endpoint: plain,
      partition: 0,
      mediaType: v1,
      events: [makeEvent()],
    });
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(1));
    await until(unsigned, () => expect(receiver.on(`/${plain}`)).toHaveLength(1));
    const [post] = receiver.on(`/${name}`) as [Received];
    expect(post.headers.get("webhook-id")).toBe(event.id);
    expect(post.headers.get("webhook-signature")).toMatch(/^v1,/);
    const verified = await verifyWebhook({
      secret: signingSecret,
      headers: post.headers,
      body: post.body,
    });
    expect(verified.id).toBe(event.id);
    const [bare] = receiver.on(`/${plain}`) as [Received];
    expect(bare.headers.has("webhook-signature")).toBe(false);
    await settle(stub, unsigned);
  });

  it("signs events whose ids cannot be a header value (NUL, CR, LF, non-ASCII, spaces) with evt_<sha256> ids", async () => {
    const name = uniqueName("unsafe-ids");
    const stub = await openQueue([endpointConfig(name, { secret: signingSecret })]);
    const ids = [
      "nul\0id",
      "cr\rid",
      "lf\nid",
      "crlf\r\nInjected: 1",
      "non-ascii-é€",
      "with space",
    ];
    const events = ids.map((id) => ({ ...makeEvent(), id }));
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(ids.length));
    const posts = receiver.on(`/${name}`);
    expect(idsOf(posts)).toEqual(ids);
    for (const [index, post] of posts.entries()) {
      const digest = await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(ids[index] as string),
      );
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      expect(post.headers.get("webhook-id")).toBe(`evt_${hex.slice(0, 32)}`);
      expect(post.headers.has("injected")).toBe(false);
      await verifyWebhook({ secret: signingSecret, headers: post.headers, body: post.body });
    }
    expect(await stub.status()).toMatchObject({ depth: 0, deadLetters: 0, lastError: null });
    await settle(stub);
  });
});

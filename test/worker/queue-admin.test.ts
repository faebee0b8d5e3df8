// EndpointQueue admin RPCs and guards in workerd: paging, purge, pause/resume, input errors,
// partitions as separate objects, and no double delivery while a POST is in flight.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { partitionOf } from "../../src/endpoint/endpoint.ts";
import {
  CONFIG_RECHECK_MS,
  DEDUP_RETENTION_MS,
  type EndpointQueue,
  MAX_PAUSE_REASON_LENGTH,
  type QueuedEvent,
} from "../../worker/queue/endpoint-queue.ts";
import { queueName } from "../../worker/queue/partition.ts";
import {
  endpointConfig,
  enqueueTexts,
  makeEvent,
  openQueue,
  queued,
  type Received,
  type Receiver,
  settle,
  sleep,
  uniqueName,
  until,
  useEndpoints,
  useReceiver,
  v1,
  v2,
} from "./queue-support.ts";

let receiver: Receiver;
useReceiver((fresh) => {
  receiver = fresh;
});

const idsOf = (posts: Received[]) => posts.flatMap((post) => post.ids);

describe("EndpointQueue admin", () => {
  it("lists pending events in pages without bodies", async () => {
    const name = uniqueName("pages");
    const stub = await openQueue([endpointConfig(name)]);
    await stub.pause();
    const events = Array.from({ length: 7 }, (_, i) => makeEvent(`team/r${i}`, "pull"));
    expect(
      await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events }),
    ).toEqual({
      queued: 7,
      duplicates: 0,
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    for (let page = 0; page < 5; page++) {
      const result = await stub.list({ state: "pending", limit: 3, ...(cursor && { cursor }) });
      sizes.push(result.items.length);
      seen.push(...result.items.map((item) => item.id));
      if (result.nextCursor === null) break;
      cursor = result.nextCursor;
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(events.map((e) => e.id));
    const [first] = (await stub.list({ state: "pending", limit: 1 })).items;
    expect(first).toEqual({
      id: events[0]?.id,
      seq: expect.any(Number),
      action: "pull",
      repository: "team/r0",
      tag: "v1",
      digest: "sha256:3e0ad3a67c04",
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      acceptedAt: expect.any(Number),
      attempts: 0,
      nextAttemptAt: expect.any(Number),
      lastStatus: null,
      lastError: null,
    });
    expect((await stub.list({ state: "dead" })).items).toEqual([]);
    const status = await stub.status();
    expect(status).toMatchObject({
      endpoint: name,
      partition: 0,
      paused: true,
      pauseReason: "paused by admin",
      depth: 7,
      deadLetters: 0,
      nextAttemptAt: null,
    });
    expect(status.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    expect(status.metrics.events).toBe(7);
    await settle(stub);
  });

  it("names what each dead letter is about: the target's tag, digest and media type", async () => {
    const name = uniqueName("identify");
    const stub = await openQueue([endpointConfig(name)]);
    receiver.answer(`/${name}`, () => new Response(null, { status: 422 }));
    const manifest = makeEvent("team/app", "push");
    const index = {
      ...makeEvent("team/app", "push"),
      target: {
        mediaType: "application/vnd.oci.image.index.v1+json",
        digest: "sha256:9f86d081884c7d65",
        repository: "team/app",
        tag: "release-2026.11",
      },
    };
    const blob = {
      ...makeEvent("team/app", "pull"),
      target: {
        mediaType: "application/octet-stream",
        digest: "sha256:2cf24dba5fb0a30e",
        size: 3,
        repository: "team/app",
      },
    };
    const repoDelete = { ...makeEvent("team/app", "delete"), target: { repository: "team/app" } };
    const events = [manifest, index, blob, repoDelete];
    // The envelope's own line (v2) must not be mistaken for the target's media type.
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v2, events });
    await until(stub, async () => expect((await stub.status()).deadLetters).toBe(4));
    const { items } = await stub.list({ state: "dead" });
    expect(items.map(({ id, tag, digest, mediaType }) => ({ id, tag, digest, mediaType }))).toEqual(
      [
        {
          id: manifest.id,
          tag: "v1",
          digest: "sha256:3e0ad3a67c04",
          mediaType: "application/vnd.oci.image.manifest.v1+json",
        },
        {
          id: index.id,
          tag: "release-2026.11",
          digest: "sha256:9f86d081884c7d65",
          mediaType: "application/vnd.oci.image.index.v1+json",
        },
        {
          id: blob.id,
          tag: undefined,
          digest: "sha256:2cf24dba5fb0a30e",
          mediaType: "application/octet-stream",
        },
        { id: repoDelete.id, tag: undefined, digest: undefined, mediaType: undefined },
      ],
    );
    // Absent fields are left out, not null, like the event's own target.
    for (const key of ["tag", "digest", "mediaType"]) expect(items[3]).not.toHaveProperty(key);
    expect(items[2]).not.toHaveProperty("tag");
    expect(items.every((item) => item.reason === "final" && item.lastStatus === 422)).toBe(true);
    // A replayed dead letter keeps what it is about.
    await stub.pause("inspect");
    expect(await stub.replay({ ids: [index.id] })).toEqual({ replayed: 1 });
    const [pending] = (await stub.list({ state: "pending" })).items;
    expect(pending).toMatchObject({ id: index.id, tag: "release-2026.11", attempts: 0 });
    await settle(stub);
  });

  it("takes a pause reason of up to 500 characters whole and rejects a longer one", async () => {
    const name = uniqueName("reason");
    const stub = await openQueue([endpointConfig(name)]);
    expect(MAX_PAUSE_REASON_LENGTH).toBe(500);
    const longest = "maintenance window ".repeat(27).slice(0, MAX_PAUSE_REASON_LENGTH);
    expect(longest).toHaveLength(500);
    expect((await stub.pause(longest)).pauseReason).toBe(longest);
    await stub.resume();
    await runInDurableObject<EndpointQueue, void>(stub, (queue) =>
      expect(queue.pause(`${longest}!`)).rejects.toThrow(
        /^reason: must be at most 500 characters, got 501$/,
      ),
    );
    // The rejected call changed nothing.
    expect(await stub.status()).toMatchObject({ paused: false });
    expect((await stub.pause("   ")).pauseReason).toBe("paused by admin");
    await settle(stub);
  });

  it("rejects malformed inputs with the field named", async () => {
    const name = uniqueName("inputs");
    const stub = await openQueue([endpointConfig(name)]);
    const good = makeEvent();
    // Rejections are checked on the instance: a rejecting RPC through a stub leaks an unhandled
    // rejection in vitest-pool-workers (cloudflare/workers-sdk#14736).
    const rejects = (call: (queue: EndpointQueue) => Promise<unknown>, message: RegExp) =>
      runInDurableObject<EndpointQueue, void>(stub, (queue) =>
        expect(call(queue)).rejects.toThrow(message),
      );
    await rejects((q) => q.list({ state: "gone" as "dead" }), /state: must be "pending" or "dead"/);
    await rejects((q) => q.list({ state: "dead", limit: 0 }), /limit: must be an integer from 1/);
    await rejects((q) => q.list({ state: "dead", cursor: "x1" }), /cursor: must be the nextCursor/);
    await rejects((q) => q.replay({ ids: [""] }), /ids\[0\]: must be a non-empty string/);
    await rejects(
      (q) => q.enqueue({ endpoint: name, partition: -1, mediaType: v1, events: [good] }),
      /partition: must be >= 0/,
    );
    const broken = { ...good, id: "x", target: { repository: "" } } as typeof good;
    await rejects(
      (q) => q.enqueue({ endpoint: name, partition: 0, mediaType: v1, events: [good, broken] }),
      /events\[1\]\.target\.repository: must be a non-empty string/,
    );
    // The form ingest sends: keys as columns and the event's text.
    const [text] = queued([good]) as [QueuedEvent];
    await rejects(
      (q) =>
        q.enqueue({
          endpoint: name,
          partition: 0,
          mediaType: v1,
          events: [text, { ...text, repository: "" }],
        }),
      /events\[1\]\.repository: must be a non-empty string/,
    );
    for (const bad of [
      { ...text, text: "" },
      { ...text, text: '"push"' },
    ]) {
      await rejects(
        (q) => q.enqueue({ endpoint: name, partition: 0, mediaType: v1, events: [bad] }),
        /events\[0\]\.text: must be/,
      );
    }
    await rejects(
      (q) => q.enqueue({ endpoint: name, partition: 0, mediaType: v1, events: "x" as never }),
      /events: must be a list of events/,
    );
    await rejects(
      (q) => q.enqueue({ endpoint: "nobody", partition: 0, mediaType: v1, events: [good] }),
      /endpoint "nobody" is not in RELAY_ENDPOINTS/,
    );
    // Nothing of the rejected calls was stored.
    expect((await stub.status()).depth).toBe(0);
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: [good] });
    await rejects(
      (q) => q.enqueue({ endpoint: name, partition: 1, mediaType: v1, events: [makeEvent()] }),
      /belongs to endpoint .* partition 0, not .* partition 1/,
    );
    await settle(stub);
  });

  it("purges dead letters only", async () => {
    const name = uniqueName("purge");
    const stub = await openQueue([endpointConfig(name)]);
    const doomed = [makeEvent(), makeEvent()];
    receiver.answer(`/${name}`, () => new Response(null, { status: 400 }));
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: doomed });
    await until(stub, async () => expect((await stub.status()).deadLetters).toBe(2));
    await stub.pause("keep pending");
    const waiting = [makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: waiting });
    expect(await stub.purge()).toEqual({ purged: 2 });
    expect(await stub.purge()).toEqual({ purged: 0 });
    expect((await stub.list({ state: "pending" })).items.map((i) => i.id)).toEqual([
      waiting[0]?.id,
    ]);
    expect(await stub.status()).toMatchObject({ depth: 1, deadLetters: 0 });
    // Purged ids stay remembered: a resend is still a duplicate.
    expect(
      await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: doomed }),
    ).toEqual({ queued: 0, duplicates: 2 });
    await settle(stub);
  });

  it("pause stops delivery (events are still accepted); resume delivers them in order", async () => {
    const name = uniqueName("pause");
    const stub = await openQueue([endpointConfig(name)]);
    const before = makeEvent();
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: [before] });
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(1));
    const paused = await stub.pause("receiver maintenance");
    expect(paused).toMatchObject({ paused: true, pauseReason: "receiver maintenance" });
    const held = [makeEvent(), makeEvent(), makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: held });
    for (let i = 0; i < 5; i++) {
      expect(await runDurableObjectAlarm(stub)).toBe(false);
      await sleep(10);
    }
    expect(receiver.on(`/${name}`)).toHaveLength(1);
    const resumed = await stub.resume();
    expect(resumed.paused).toBe(false);
    expect(resumed.pauseReason).toBeUndefined();
    await until(stub, () =>
      expect(idsOf(receiver.on(`/${name}`))).toEqual([before, ...held].map((e) => e.id)),
    );
    await settle(stub);
  });

  it("keeps partitions in separate objects, each in order and paused on its own", async () => {
    const name = uniqueName("parts");
    const config = [endpointConfig(name, { partitions: 2 })];
    const repos = Array.from({ length: 12 }, (_, i) => `org/repo-${i}`);
    const byPartition = new Map<number, ReturnType<typeof makeEvent>[]>([
      [0, []],
      [1, []],
    ]);
    const events = repos.flatMap((repo) => [makeEvent(repo), makeEvent(repo)]);
    for (const event of events)
      byPartition.get(partitionOf(event.target.repository, 2))?.push(event);
    expect(byPartition.get(0)?.length).toBeGreaterThan(0);
    expect(byPartition.get(1)?.length).toBeGreaterThan(0);
    const p0 = await openQueue(config, queueName(name, 0));
    const p1 = await openQueue(config, queueName(name, 1));
    await p0.pause("hold partition 0");
    for (const [partition, stub] of [
      [0, p0],
      [1, p1],
    ] as const) {
      const group = byPartition.get(partition) ?? [];
      await enqueueTexts(stub, { endpoint: name, partition, mediaType: v1, events: group });
    }
    const ids = (p: number) => (byPartition.get(p) ?? []).map((e) => e.id);
    await until(p1, () => expect(idsOf(receiver.on(`/${name}`))).toEqual(ids(1)));
    expect(await p0.status()).toMatchObject({ partition: 0, depth: ids(0).length, paused: true });
    expect(await p1.status()).toMatchObject({ partition: 1, depth: 0, paused: false });
    await p0.resume();
    await until(p0, () => expect(idsOf(receiver.on(`/${name}`))).toEqual([...ids(1), ...ids(0)]));
    await settle(p0, p1);
  });

  it("holds events, never drops them, while the endpoint is disabled or gone from the config", async () => {
    const name = uniqueName("held");
    const stub = await openQueue([endpointConfig(name)]);
    await stub.pause("reconfiguring");
    const events = [makeEvent(), makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    for (const endpoints of [
      [endpointConfig(name, { disabled: true })],
      [endpointConfig("other")],
    ]) {
      await useEndpoints(stub, endpoints);
      await stub.resume();
      await until(stub, async () => expect((await stub.status()).lastError).toMatch(name));
      const status = await stub.status();
      expect(status.lastError).toMatch(/is disabled|no longer in RELAY_ENDPOINTS/);
      expect(status.depth).toBe(2);
      expect((status.nextAttemptAt ?? 0) - Date.now()).toBeGreaterThan(CONFIG_RECHECK_MS - 5000);
      expect(receiver.on(`/${name}`)).toHaveLength(0);
      await stub.pause("reconfiguring");
    }
    await useEndpoints(stub, [endpointConfig(name)]);
    await stub.resume();
    await until(stub, () =>
      expect(idsOf(receiver.on(`/${name}`))).toEqual(events.map((e) => e.id)),
    );
    await settle(stub);
  });

  it("remembers ids for at least 24 h and then forgets them", async () => {
    const name = uniqueName("retention");
    const stub = await openQueue([endpointConfig(name)]);
    const now = Date.now();
    const old = makeEvent();
    const recent = makeEvent();
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        "INSERT INTO seen (id, accepted_at) VALUES (?, ?), (?, ?)",
        old.id,
        now - DEDUP_RETENTION_MS - 60_000,
        recent.id,
        now - DEDUP_RETENTION_MS + 3_600_000,
      );
    });
    // The first enqueue of this object prunes (a bounded batch, then every 10 minutes).
    await enqueueTexts(stub, {
      endpoint: name,
      partition: 0,
      mediaType: v1,
      events: [makeEvent()],
    });
    expect(
      await enqueueTexts(stub, {
        endpoint: name,
        partition: 0,
        mediaType: v1,
        events: [old, recent],
      }),
    ).toEqual({ queued: 1, duplicates: 1 });
    await until(stub, () => expect(idsOf(receiver.on(`/${name}`))).toHaveLength(2));
    expect(idsOf(receiver.on(`/${name}`))[1]).toBe(old.id);
    await settle(stub);
  });

  it("persists the attempt before the POST and never sends the head twice while it is in flight", async () => {
    const name = uniqueName("in-flight");
    const stub = await openQueue([endpointConfig(name, { timeout: "3s" })]);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    receiver.answer(`/${name}`, async () => {
      await gate;
      return new Response(null, { status: 200 });
    });
    const event = makeEvent();
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events: [event] });
    await vi.waitFor(() => expect(receiver.on(`/${name}`)).toHaveLength(1), { timeout: 2000 });
    // The POST is open, so the input gate is too: reads, alarms and kicks get in.
    const [inFlight] = (await stub.list({ state: "pending" })).items;
    expect(inFlight?.attempts).toBe(1);
    expect((inFlight?.nextAttemptAt ?? 0) - Date.now()).toBeGreaterThan(2000);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(inFlight?.nextAttemptAt);
    await runDurableObjectAlarm(stub);
    await runInDurableObject<EndpointQueue, void>(stub, (instance) => instance.alarm());
    await stub.resume();
    await enqueueTexts(stub, {
      endpoint: name,
      partition: 0,
      mediaType: v1,
      events: [makeEvent()],
    });
    await sleep(30);
    expect(receiver.on(`/${name}`)).toHaveLength(1);
    release();
    await until(stub, async () => expect((await stub.status()).depth).toBe(0));
    expect(idsOf(receiver.on(`/${name}`))[0]).toBe(event.id);
    expect(receiver.on(`/${name}`)).toHaveLength(2);
    await settle(stub);
  });
});

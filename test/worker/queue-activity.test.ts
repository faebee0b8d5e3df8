// The last hour per minute (worker/queue/activity.ts): the ring with injected time (placement,
// rollover past an hour, a clock that steps back, the merge over partitions), then the queue in
// workerd: what deliveries, failures and dead letters count, a restart, and the admin API's view.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { partitionOf } from "../../src/endpoint/endpoint.ts";
import type { ActivityCounts, EndpointView } from "../../worker/admin-api.ts";
import {
  type ActivityRing,
  activityView,
  countActivity,
  emptyActivity,
  MINUTE_MS,
  mergeActivity,
} from "../../worker/queue/activity.ts";
import { queueName } from "../../worker/queue/partition.ts";
import { queueStub, snapshotOf } from "../../worker/queue/snapshot.ts";
import {
  endpointConfig,
  enqueueTexts,
  makeEvent,
  openQueue,
  perEvent,
  type QueueStub,
  type Receiver,
  settle,
  uniqueName,
  until,
  useEndpoints,
  useReceiver,
  v1,
} from "./queue-support.ts";
import { admin, envelopeOf, event, eventually, ingest } from "./relay-helpers.ts";

let receiver: Receiver;
useReceiver((fresh) => {
  receiver = fresh;
});

/** 12:00:30 UTC: half a minute into minute `M`. */
const t0 = Date.UTC(2026, 10, 27, 12, 0, 30);
const M = Math.floor(t0 / MINUTE_MS);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const sums = (a: ActivityCounts) => [sum(a.delivered), sum(a.failed), sum(a.deadLettered)];
/** Minute (ms / MINUTE_MS) → count of one series, for comparing views read at other times. */
const byMinute = (a: ActivityCounts, kind: "delivered" | "failed" | "deadLettered") =>
  Object.fromEntries(
    a[kind].flatMap((n, i) => (n > 0 ? [[a.start / a.minuteMs + i, n]] : [])),
  ) as Record<number, number>;

describe("the last hour's ring, with injected time", () => {
  it("counts each outcome in the minute it ended, oldest first, the last slot holding now", () => {
    let ring = countActivity(emptyActivity(), t0, { delivered: 3 });
    ring = countActivity(ring, t0 + 60_000, { failed: 1, deadLettered: 2 });
    ring = countActivity(ring, t0 + 60_010, { delivered: 1 });
    const view = activityView(ring, t0 + 80_000);
    expect(view.now).toBe(t0 + 80_000);
    expect(view.minuteMs).toBe(60_000);
    expect(view.start).toBe((M + 1 - 59) * MINUTE_MS);
    for (const series of [view.delivered, view.failed, view.deadLettered]) {
      expect(series).toHaveLength(60);
    }
    expect(view.delivered.slice(58)).toEqual([3, 1]);
    expect(view.failed.slice(58)).toEqual([0, 1]);
    expect(view.deadLettered.slice(58)).toEqual([0, 2]);
    expect(sums(view)).toEqual([4, 1, 2]);
    // 29 minutes on, the same minutes sit 29 slots further back.
    const later = activityView(ring, t0 + 30 * 60_000);
    expect(later.delivered[29]).toBe(3);
    expect(later.delivered[30]).toBe(1);
    expect(sums(later)).toEqual([4, 1, 2]);
  });

  it("drops minutes more than an hour old: from the view at once, from the ring as it moves on", () => {
    const ring = countActivity(emptyActivity(), t0, { delivered: 5, failed: 1 });
    expect(activityView(ring, t0 + 59 * 60_000).delivered[0]).toBe(5);
    expect(sums(activityView(ring, t0 + 60 * 60_000))).toEqual([0, 0, 0]);
    // The ring itself: the slot minute M used is zeroed when minute M+61 reuses the ring.
    const moved = countActivity(ring, t0 + 61 * 60_000, { delivered: 1 });
    expect(moved.minute).toBe(M + 61);
    expect([sum(moved.delivered), sum(moved.failed)]).toEqual([1, 0]);
    // A full hour of minutes, then 16 more: the first 16 are gone, the other 44 stay.
    let full: ActivityRing = emptyActivity();
    for (let m = 0; m < 60; m++) full = countActivity(full, t0 + m * 60_000, { delivered: 1 });
    expect(sum(full.delivered)).toBe(60);
    const after = countActivity(full, t0 + 75 * 60_000, { failed: 1 });
    expect([sum(after.delivered), sum(after.failed)]).toEqual([44, 1]);
    expect(sums(activityView(after, t0 + 75 * 60_000))).toEqual([44, 1, 0]);
    // Hours later, nothing is left.
    const idle = countActivity(after, t0 + 5 * 3_600_000, {});
    expect(sum(idle.delivered) + sum(idle.failed)).toBe(0);
    expect(full.delivered).toHaveLength(60);
  });

  it("counts a clock that stepped back within the hour in its own minute, drops one further back", () => {
    let ring = countActivity(emptyActivity(), t0 + 10 * 60_000, { delivered: 1 });
    ring = countActivity(ring, t0, { delivered: 2 });
    ring = countActivity(ring, t0 + 10 * 60_000 - 61 * 60_000, { delivered: 7 });
    expect(ring.minute).toBe(M + 10);
    const view = activityView(ring, t0 + 10 * 60_000);
    expect(view.delivered[49]).toBe(2);
    expect(view.delivered[59]).toBe(1);
    expect(sum(view.delivered)).toBe(3);
    // Read at a `now` before the ring's newest minute: that minute is not shown as an old one.
    const early = activityView(ring, t0 + 5 * 60_000);
    expect(early.delivered[54]).toBe(2);
    expect(sum(early.delivered)).toBe(2);
  });

  it("merges partitions minute by minute, lining up views read on either side of a minute's turn", () => {
    const a = activityView(
      countActivity(countActivity(emptyActivity(), t0 - 59 * 60_000, { failed: 4 }), t0, {
        delivered: 2,
      }),
      t0,
    );
    const b = activityView(
      countActivity(countActivity(emptyActivity(), t0, { delivered: 3 }), t0 + 60_000, {
        delivered: 1,
        deadLettered: 1,
      }),
      t0 + 60_000,
    );
    expect(a.failed[0]).toBe(4);
    const merged = mergeActivity([a, b], t0 + 60_000);
    expect(merged.now).toBe(t0 + 60_000);
    expect(merged.start).toBe(b.start);
    expect(merged.delivered.slice(58)).toEqual([5, 1]);
    expect(merged.deadLettered[59]).toBe(1);
    // a's oldest minute is more than an hour before the merge's now: it drops out.
    expect(sums(merged)).toEqual([6, 0, 1]);
    expect(sums(mergeActivity([], t0))).toEqual([0, 0, 0]);
    expect(mergeActivity([], t0).start).toBe((M - 59) * MINUTE_MS);
  });
});

/** Restarts an object: workerd resets it (and logs the abort), the next call builds a new one. */
async function restart(objectName: string, stub: QueueStub): Promise<QueueStub> {
  await runInDurableObject(stub, (_instance, state) => state.abort("restart")).catch(() => {});
  return env.ENDPOINT_QUEUE.get(env.ENDPOINT_QUEUE.idFromName(objectName));
}

/** The ring exactly as the object stored it. */
function storedRing(stub: QueueStub): Promise<ActivityRing> {
  return runInDurableObject(stub, (_instance, state) => {
    const row = state.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'activity'")
      .one();
    return JSON.parse(row.value) as ActivityRing;
  });
}

describe("EndpointQueue: the last hour", () => {
  it("counts delivered events, failed attempts and dead letters in the minutes they happened", async () => {
    const name = uniqueName("activity");
    const stub = await openQueue([endpointConfig(name)]);
    const [retried, fine, rejected] = [makeEvent(), makeEvent(), makeEvent()];
    receiver.answer(`/${name}`, perEvent({ [retried.id]: [500, 503], [rejected.id]: [422] }));
    const before = Date.now();
    const events = [retried, fine, rejected];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => {
      const status = await stub.status();
      expect([status.depth, status.deadLetters]).toEqual([0, 1]);
    });
    const status = await stub.status();
    const after = Date.now();
    const { activity } = status;
    expect(sums(activity)).toEqual([2, 3, 1]);
    // The same outcomes as the lifetime counters (one POST per attempt: maxBatch is 1).
    expect(sum(activity.delivered)).toBe(status.latency.count);
    expect(sum(activity.failed)).toBe(status.metrics.failures + status.metrics.errors);
    expect(sum(activity.deadLettered)).toBe(status.metrics.deadLettered);
    // On the object's clock: the slots that count anything are the minutes of this test.
    expect(activity.now).toBeGreaterThanOrEqual(before);
    expect(activity.now).toBeLessThanOrEqual(after);
    expect(activity.start).toBe((Math.floor(activity.now / MINUTE_MS) - 59) * MINUTE_MS);
    for (const kind of ["delivered", "failed", "deadLettered"] as const) {
      for (const minute of Object.keys(byMinute(activity, kind)).map(Number)) {
        expect(minute).toBeGreaterThanOrEqual(Math.floor(before / MINUTE_MS));
        expect(minute).toBeLessThanOrEqual(Math.floor(after / MINUTE_MS));
      }
    }
    await settle(stub);
  });

  it("keeps its last hour across a restart and forgets minutes more than an hour old", async () => {
    const name = uniqueName("activity-restart");
    const objectName = uniqueName("activity-object");
    const endpoints = [endpointConfig(name)];
    let stub = await openQueue(endpoints, objectName);
    const events = [makeEvent(), makeEvent()];
    await enqueueTexts(stub, { endpoint: name, partition: 0, mediaType: v1, events });
    await until(stub, async () => expect((await stub.status()).depth).toBe(0));
    const delivered = byMinute((await stub.status()).activity, "delivered");
    expect(sum(Object.values(delivered))).toBe(2);
    await stub.pause("restart");

    stub = await restart(objectName, stub);
    await useEndpoints(stub, endpoints);
    expect(byMinute((await stub.status()).activity, "delivered")).toEqual(delivered);

    // A ring last written 90 minutes ago (every slot full), read by a new instance: none shows.
    const stale = emptyActivity();
    stale.minute = Math.floor(Date.now() / MINUTE_MS) - 90;
    for (const kind of ["delivered", "failed", "deadLettered"] as const) stale[kind].fill(9);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE meta SET value = ? WHERE key = 'activity'",
        JSON.stringify(stale),
      );
    });
    await enqueueTexts(stub, {
      endpoint: name,
      partition: 0,
      mediaType: v1,
      events: [makeEvent()],
    });
    stub = await restart(objectName, stub);
    await useEndpoints(stub, endpoints);
    expect(sums((await stub.status()).activity)).toEqual([0, 0, 0]);
    // The next delivery moves the ring on: the stored slots hold only this minute's count.
    await stub.resume();
    await until(stub, async () => expect((await stub.status()).depth).toBe(0));
    const ring = await storedRing(stub);
    expect(ring.minute).toBeGreaterThanOrEqual(stale.minute + 90);
    expect([sum(ring.delivered), sum(ring.failed), sum(ring.deadLettered)]).toEqual([1, 0, 0]);
    await settle(stub);
  });

  it("sums an endpoint's partitions minute by minute (snapshotOf)", async () => {
    const name = uniqueName("activity-parts");
    const endpoints = [endpointConfig(name, { partitions: 2 })];
    const stubs = [
      await openQueue(endpoints, queueName(name, 0)),
      await openQueue(endpoints, queueName(name, 1)),
    ];
    const rejected = makeEvent();
    receiver.answer(`/${name}`, perEvent({ [rejected.id]: [422] }));
    const first = [makeEvent(), makeEvent()];
    await enqueueTexts(stubs[0] as QueueStub, {
      endpoint: name,
      partition: 0,
      mediaType: v1,
      events: first,
    });
    await enqueueTexts(stubs[1] as QueueStub, {
      endpoint: name,
      partition: 1,
      mediaType: v1,
      events: [makeEvent(), rejected],
    });
    for (const stub of stubs) {
      await until(stub, async () => expect((await stub.status()).depth).toBe(0));
    }
    const snapshot = await snapshotOf(env, { name, partitions: 2, disabled: false });
    expect(sums(snapshot.activity)).toEqual([3, 1, 1]);
    const parts = await Promise.all(stubs.map((stub) => stub.status()));
    expect(snapshot.activity.now).toBeGreaterThanOrEqual(
      Math.max(...parts.map((p) => p.activity.now)) - 1000,
    );
    // Minute by minute, the endpoint's counts are the partitions' added up.
    for (const kind of ["delivered", "failed", "deadLettered"] as const) {
      const added: Record<number, number> = {};
      for (const part of parts) {
        for (const [minute, n] of Object.entries(byMinute(part.activity, kind))) {
          added[Number(minute)] = (added[Number(minute)] ?? 0) + n;
        }
      }
      expect(byMinute(snapshot.activity, kind)).toEqual(added);
    }
    await settle(...stubs);
  });
});

describe("GET /v1/endpoints/:name: the last hour", () => {
  it("shows deliveries over every partition and failures with dead letters, on the relay's clock", async () => {
    const read = async (name: string) => {
      const response = await admin(`/v1/endpoints/${name}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as EndpointView).activity;
    };
    const before = {
      sharded: sums(await read("sharded")),
      rejecting: sums(await read("rejecting")),
    };
    const start = Date.now();
    const repos = ["hour/a", "hour/b", "hour/c", "hour/d", "hour/e"];
    expect(new Set(repos.map((repo) => partitionOf(repo, 4))).size).toBeGreaterThan(1);
    const pushes = repos.map((repo) => event("push", repo));
    expect((await ingest(envelopeOf(...pushes, event("delete", "hour/a")))).status).toBe(202);

    const sharded = await eventually(async () => {
      const activity = await read("sharded");
      return (sums(activity)[0] ?? 0) >= (before.sharded[0] ?? 0) + 6 ? activity : undefined;
    });
    const rejecting = await eventually(async () => {
      const activity = await read("rejecting");
      return (sums(activity)[2] ?? 0) > (before.rejecting[2] ?? 0) ? activity : undefined;
    });
    expect(sums(rejecting)[1]).toBeGreaterThan(before.rejecting[1] ?? 0);
    for (const activity of [sharded, rejecting]) {
      expect(activity.now).toBeGreaterThanOrEqual(start);
      expect(activity.now).toBeLessThanOrEqual(Date.now());
      expect(activity.start).toBe((Math.floor(activity.now / MINUTE_MS) - 59) * MINUTE_MS);
      expect(activity.delivered).toHaveLength(60);
    }
    // The endpoint's minutes are its four partitions' added up.
    const parts = await Promise.all([0, 1, 2, 3].map((p) => queueStub(env, "sharded", p).status()));
    const merged = mergeActivity(
      parts.map((p) => p.activity),
      sharded.now,
    );
    expect(byMinute(merged, "delivered")).toEqual(byMinute(sharded, "delivered"));
    expect(parts.filter((p) => sum(p.activity.delivered) > 0).length).toBeGreaterThan(1);
  });
});

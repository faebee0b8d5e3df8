import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EndpointMetrics } from "../../src/sinks/metrics.ts";
import { EventQueue, QueueFullError } from "../../src/sinks/queue.ts";
import { type Sink, SinkClosedError } from "../../src/sinks/sink.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** go-events' testSink with a delay: records every event, in order. */
class SlowSink implements Sink<number> {
  events: number[] = [];
  closed = 0;
  concurrent = 0;
  maxConcurrent = 0;
  private readonly delay: number;
  constructor(delay: number) {
    this.delay = delay;
  }
  async write(...events: number[]) {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    await pause(this.delay);
    this.events.push(...events);
    this.concurrent--;
  }
  async close() {
    this.closed++;
  }
}

/** A sink whose writes wait until `open()` is called. */
class GateSink implements Sink<number> {
  writes: number[][] = [];
  private release: (() => void) | undefined;
  private gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  open() {
    this.release?.();
  }
  async write(...events: number[]) {
    await this.gate;
    this.writes.push(events);
  }
  async close() {}
}

async function checkClose(sink: Sink<number>) {
  const first = sink.close();
  assert.equal(sink.close(), first, "close is idempotent");
  await first;
  await assert.rejects(sink.write(1), SinkClosedError);
}

describe("EventQueue", () => {
  it("delivers 1000 concurrent writes over a 1 ms sink, one at a time, then closes the sink", async () => {
    const inner = new SlowSink(1);
    const metrics = new EndpointMetrics();
    const queue = new EventQueue(inner, {
      onIngress: (events) => metrics.ingress(events.length),
      onEgress: (events) => metrics.egress(events.length),
    });
    const writes = Array.from({ length: 1000 }, (_, i) => queue.write(i));
    assert.deepEqual(await Promise.all(writes), new Array(1000).fill(undefined));
    await checkClose(queue);
    assert.equal(inner.events.length, 1000);
    assert.deepEqual(
      inner.events,
      Array.from({ length: 1000 }, (_, i) => i),
      "FIFO",
    );
    assert.equal(inner.closed, 1);
    assert.equal(inner.maxConcurrent, 1, "single drainer");
    assert.equal(metrics.events, 1000);
    assert.equal(metrics.pending, 0);
    assert.equal(queue.pending, 0);
  });

  it("keeps blocks of 10 together (v2.8 batch test)", async () => {
    const inner = new SlowSink(0);
    const queue = new EventQueue(inner);
    await Promise.all(
      Array.from({ length: 100 }, (_, block) =>
        queue.write(...Array.from({ length: 10 }, (_, i) => block * 10 + i)),
      ),
    );
    await checkClose(queue);
    assert.deepEqual(
      inner.events,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it("counts pending = accepted − handed on, including the write in flight", async () => {
    const inner = new GateSink();
    const seen: string[] = [];
    const queue = new EventQueue(inner, {
      onIngress: (events) => seen.push(`in ${events}`),
      onEgress: (events) => seen.push(`out ${events}`),
    });
    await queue.write(1, 2);
    await queue.write(3);
    assert.equal(queue.pending, 3);
    inner.open();
    await queue.close();
    assert.equal(queue.pending, 0);
    assert.deepEqual(seen, ["in 1,2", "in 3", "out 1,2", "out 3"]);
    assert.deepEqual(inner.writes, [[1, 2], [3]]);
  });

  it("reports a downstream error with its events and moves on", async () => {
    const failures: [unknown, number[]][] = [];
    const delivered: number[] = [];
    const inner: Sink<number> = {
      async write(...events) {
        if (events.includes(2)) throw new Error("receiver said no");
        delivered.push(...events);
      },
      async close() {},
    };
    const metrics = new EndpointMetrics();
    const queue = new EventQueue(inner, {
      onError: (error, events) => failures.push([error, events]),
      onIngress: (events) => metrics.ingress(events.length),
      onEgress: (events) => metrics.egress(events.length),
    });
    await queue.write(1);
    await queue.write(2);
    await queue.write(3);
    await queue.close();
    assert.deepEqual(delivered, [1, 3]);
    assert.equal(failures.length, 1);
    assert.deepEqual(failures[0]?.[1], [2]);
    assert.match(String(failures[0]?.[0]), /receiver said no/);
    assert.equal(metrics.pending, 0);
  });

  it('overflow "reject": a write that does not fit rejects with QueueFullError naming the capacity', async () => {
    const inner = new GateSink();
    const queue = new EventQueue(inner, { capacity: 2, overflow: "reject" });
    await queue.write(1); // taken by the drainer: in flight, not waiting
    await queue.write(2);
    await queue.write(3);
    const full = await queue.write(4).then(
      () => assert.fail("accepted past capacity"),
      (error: unknown) => error,
    );
    assert.ok(full instanceof QueueFullError);
    assert.equal(full.capacity, 2);
    assert.match(full.message, /capacity 2/);
    assert.equal(queue.dropped, 0);
    inner.open();
    await queue.close();
    assert.deepEqual(inner.writes, [[1], [2], [3]]);
  });

  it('overflow "drop-oldest": drops the oldest waiting writes, counts them and reports them', async () => {
    const inner = new GateSink();
    const drops: number[][] = [];
    const metrics = new EndpointMetrics();
    const queue = new EventQueue(inner, {
      capacity: 3,
      overflow: "drop-oldest",
      onDrop: (events) => drops.push(events),
      onIngress: (events) => metrics.ingress(events.length),
      onEgress: (events) => metrics.egress(events.length),
    });
    await queue.write(1); // in flight
    await queue.write(2);
    await queue.write(3, 4);
    await queue.write(5, 6); // needs 2 more slots: drops [2] then [3, 4]
    assert.deepEqual(drops, [[2], [3, 4]]);
    assert.equal(queue.dropped, 3);
    await assert.rejects(queue.write(7, 8, 9, 10), QueueFullError, "larger than the capacity");
    inner.open();
    await queue.close();
    assert.deepEqual(inner.writes, [[1], [5, 6]]);
    assert.equal(metrics.pending, 0, "dropped events leave pending");
    assert.equal(metrics.events, 6);
  });

  it("close waits for the queue to drain before closing the sink", async () => {
    const inner = new SlowSink(2);
    const queue = new EventQueue(inner);
    for (let i = 0; i < 20; i++) await queue.write(i);
    await queue.close();
    assert.equal(inner.events.length, 20);
    assert.equal(inner.closed, 1);
  });

  it("rejects a bad capacity or policy", () => {
    const inner = new SlowSink(0);
    assert.throws(() => new EventQueue(inner, { capacity: 0 }), /capacity/);
    assert.throws(() => new EventQueue(inner, { capacity: 1.5 }), /capacity/);
    assert.throws(() => new EventQueue(inner, { overflow: "drop-newest" as "reject" }), /overflow/);
  });
});

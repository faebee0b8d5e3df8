import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BroadcastError, Broadcaster } from "../../src/sinks/broadcaster.ts";
import { type Sink, SinkClosedError } from "../../src/sinks/sink.ts";

/** go-events' testSink: records events, counts closes, refuses writes once closed. */
class TestSink implements Sink<number> {
  events: number[] = [];
  closed = 0;
  async write(...events: number[]) {
    if (this.closed) throw new SinkClosedError("testsink");
    // Yield so that writes really interleave with the dispatcher.
    await Promise.resolve();
    this.events.push(...events);
  }
  async close() {
    this.closed++;
  }
}

async function checkClose(sink: Sink<number>) {
  const first = sink.close();
  assert.equal(sink.close(), first, "close is idempotent");
  await first;
  await assert.rejects(sink.write(1), SinkClosedError);
}

describe("Broadcaster", () => {
  it("writes 1000 events (100 concurrent blocks of 10) to each of 10 sinks in the same order", async () => {
    const sinks = Array.from({ length: 10 }, () => new TestSink());
    const broadcaster = new Broadcaster(sinks);
    await Promise.all(
      Array.from({ length: 100 }, (_, block) =>
        broadcaster.write(...Array.from({ length: 10 }, (_, i) => block * 10 + i)),
      ),
    );
    await checkClose(broadcaster);
    const first = sinks[0]!.events;
    assert.equal(first.length, 1000);
    for (const sink of sinks) {
      assert.deepEqual(sink.events, first, "every sink sees the same order");
      assert.equal(sink.closed, 1);
    }
    assert.deepEqual(
      first,
      Array.from({ length: 1000 }, (_, i) => i),
      "arrival order",
    );
  });

  it("add (idempotent) and remove go through the dispatcher (go-events TestBroadcaster)", async () => {
    const broadcaster = new Broadcaster<number>();
    const sinks = Array.from({ length: 10 }, () => new TestSink());
    for (const sink of sinks) {
      await broadcaster.add(sink);
      await broadcaster.add(sink); // no-op
    }
    assert.equal(broadcaster.size, 10);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => broadcaster.write(i)));
    for (const sink of sinks) await broadcaster.remove(sink);
    assert.equal(broadcaster.size, 0);
    await broadcaster.write(-1); // reaches nobody
    for (const sink of sinks) await broadcaster.add(sink);
    await checkClose(broadcaster);
    for (const sink of sinks) {
      assert.equal(sink.events.length, 1000);
      assert.ok(!sink.events.includes(-1));
      assert.equal(sink.closed, 1);
    }
    await assert.rejects(broadcaster.add(new TestSink()), SinkClosedError);
    await assert.rejects(broadcaster.remove(sinks[0]!), SinkClosedError);
  });

  it("removes a sink that reports SinkClosedError, without failing the write", async () => {
    const gone = new TestSink();
    const alive = new TestSink();
    const broadcaster = new Broadcaster([gone, alive]);
    await gone.close();
    await broadcaster.write(1);
    assert.equal(broadcaster.size, 1);
    await broadcaster.write(2);
    assert.deepEqual(alive.events, [1, 2]);
    assert.deepEqual(gone.events, []);
    await broadcaster.close();
    assert.equal(gone.closed, 1, "not closed again: it was removed");
  });

  it("one failing sink does not stop the others: BroadcastError after all were written", async () => {
    const before = new TestSink();
    const after = new TestSink();
    const boom = new Error("endpoint exploded");
    const failing: Sink<number> = {
      write: async () => {
        throw boom;
      },
      close: async () => {},
    };
    const reported: [unknown, Sink<number>, number[]][] = [];
    const broadcaster = new Broadcaster([before, failing, after, failing], {
      onError: (error, sink, events) => reported.push([error, sink, events]),
    });
    assert.equal(broadcaster.size, 3, "the same sink is listed once");
    const error = await broadcaster.write(7, 8).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BroadcastError);
    assert.ok(error instanceof AggregateError);
    assert.deepEqual(error.errors, [boom]);
    assert.equal(error.sinks, 3);
    assert.match(error.message, /1 of 3 sinks/);
    assert.deepEqual(before.events, [7, 8]);
    assert.deepEqual(after.events, [7, 8]);
    assert.deepEqual(reported, [[boom, failing, [7, 8]]]);
    assert.equal(broadcaster.size, 3, "a failing sink is kept");
    await broadcaster.write(9).catch(() => undefined);
    assert.deepEqual(after.events, [7, 8, 9], "the dispatcher survives a failed write");
  });

  it("close closes every sink in order, after pending writes; close failures are reported", async () => {
    const order: string[] = [];
    const sink = (name: string, fail = false): Sink<number> => ({
      write: async (...events) => {
        order.push(`${name} write ${events}`);
      },
      close: async () => {
        order.push(`${name} close`);
        if (fail) throw new Error(`${name} close failed`);
      },
    });
    const broadcaster = new Broadcaster([sink("a"), sink("b", true), sink("c")]);
    const write = broadcaster.write(1);
    const closing = broadcaster.close();
    await write;
    const error = await closing.then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BroadcastError);
    assert.match(error.message, /close failed for 1 of 3 sinks/);
    assert.deepEqual(order, [
      "a write 1",
      "b write 1",
      "c write 1",
      "a close",
      "b close",
      "c close",
    ]);
  });

  it("a write without events touches no sink", async () => {
    const sink = new TestSink();
    let writes = 0;
    const counting: Sink<number> = {
      write: async () => {
        writes++;
      },
      close: async () => {},
    };
    const broadcaster = new Broadcaster([sink, counting]);
    await broadcaster.write();
    assert.equal(writes, 0);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Event } from "../../src/event/schema.ts";
import { IgnoredSink, ignoredBy } from "../../src/sinks/ignored.ts";
import { type Sink, SinkClosedError } from "../../src/sinks/sink.ts";

function event(id: string, action: string, mediaType: string): Event {
  return {
    id,
    timestamp: "2006-01-02T15:04:05Z",
    action,
    target: { mediaType, repository: "test/repo" },
  };
}

class Recorder implements Sink<Event> {
  writes: Event[][] = [];
  closed = 0;
  async write(...events: Event[]) {
    this.writes.push(events);
  }
  async close() {
    this.closed++;
  }
}

type Case = [
  ignoreMediaTypes: string[] | undefined,
  ignoreActions: string[] | undefined,
  passes: boolean,
];

// distribution notifications/sinks_test.go TestIgnoredSink (v3), section 7.1.
const blob = event("blob", "push", "blob");
const blobCases: Case[] = [
  [undefined, undefined, true],
  [["other"], ["other"], true],
  [["blob", "manifest"], ["other"], false],
  [["other"], ["pull"], true],
  [["other"], ["pull", "push"], false],
  [[], ["pull"], true],
  [[], ["push"], false],
  [[], ["mount", "delete"], true],
];
const manifest = event("manifest", "pull", "manifest");
const manifestCases: Case[] = [
  [undefined, undefined, true],
  [["other"], ["other"], true],
  [["blob"], ["other"], true],
  [["blob", "manifest"], ["other"], false],
  [["other"], ["push"], true],
  [["other"], ["pull", "push"], false],
  [[], ["push"], true],
  [[], ["pull"], false],
  [[], ["mount", "delete"], true],
];

describe("IgnoredSink", () => {
  for (const [name, subject, cases] of [
    ["blob", blob, blobCases],
    ["manifest", manifest, manifestCases],
  ] as const) {
    for (const [mediaTypes, actions, passes] of cases) {
      it(`${name}: mediaTypes ${JSON.stringify(mediaTypes)} actions ${JSON.stringify(actions)} → ${passes ? "passes" : "dropped"}`, async () => {
        const inner = new Recorder();
        const sink = new IgnoredSink(inner, {
          ...(mediaTypes && { mediaTypes }),
          ...(actions && { actions }),
        });
        assert.equal(await sink.write(subject), undefined);
        assert.deepEqual(inner.writes, passes ? [[subject]] : []);
        // The predicate behind the sink decides the same without one.
        const rules = { ...(mediaTypes && { mediaTypes }), ...(actions && { actions }) };
        assert.equal(ignoredBy(rules)(subject), !passes);
        assert.equal(sink.ignores(subject), !passes);
      });
    }
  }

  // distribution v2.8 TestIgnoredSink (block API), section 7.2: [blob, manifest] as one write.
  const blockCases: [string[] | undefined, string[] | undefined, Event[]][] = [
    [undefined, undefined, [blob, manifest]],
    [["other"], ["other"], [blob, manifest]],
    [["blob"], ["other"], [manifest]],
    [["blob", "manifest"], ["other"], []],
    [["other"], ["push"], [manifest]],
    [["other"], ["pull"], [blob]],
    [["other"], ["pull", "push"], []],
  ];
  for (const [mediaTypes, actions, expected] of blockCases) {
    it(`block: mediaTypes ${JSON.stringify(mediaTypes)} actions ${JSON.stringify(actions)} → [${expected.map((e) => e.id)}]`, async () => {
      const inner = new Recorder();
      const sink = new IgnoredSink(inner, {
        ...(mediaTypes && { mediaTypes }),
        ...(actions && { actions }),
      });
      await sink.write(blob, manifest);
      // Survivors go on as one write; nothing is written when none survive.
      assert.deepEqual(inner.writes, expected.length ? [expected] : []);
      const ignored = ignoredBy({ ...(mediaTypes && { mediaTypes }), ...(actions && { actions }) });
      assert.deepEqual(
        [blob, manifest].filter((event) => !ignored(event)),
        expected,
      );
    });
  }

  it("matches exactly: no case folding, no parameters, deletes (no mediaType) pass media filters", async () => {
    const inner = new Recorder();
    const sink = new IgnoredSink(inner, {
      mediaTypes: ["application/octet-stream"],
      actions: ["pull"],
    });
    const upper = event("a", "PULL", "application/octet-stream; x=1");
    const deleted: Event = {
      id: "d",
      timestamp: "2006-01-02T15:04:05Z",
      action: "delete",
      target: { repository: "r" },
    };
    await sink.write(upper, deleted);
    assert.deepEqual(inner.writes, [[upper, deleted]]);
    const ignored = ignoredBy({ mediaTypes: ["application/octet-stream"], actions: ["pull"] });
    assert.deepEqual([ignored(upper), ignored(deleted)], [false, false]);
  });

  it("ignoredBy takes any iterable and ignores nothing without rules", () => {
    const ignored = ignoredBy({ mediaTypes: new Set(["blob"]), actions: ["mount"].values() });
    assert.equal(ignored(blob), true);
    assert.equal(ignored(event("m", "mount", "manifest")), true);
    assert.equal(ignored(manifest), false);
    assert.equal(ignoredBy()(blob), false);
    assert.equal(ignoredBy({})(manifest), false);
  });

  it("closes the sink behind it once, and rejects writes after close", async () => {
    const inner = new Recorder();
    const sink = new IgnoredSink(inner, { actions: ["pull"] });
    const first = sink.close();
    assert.equal(sink.close(), first, "later closes return the first promise");
    await first;
    assert.equal(inner.closed, 1);
    await assert.rejects(sink.write(blob), SinkClosedError);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SinkClosedError } from "../../src/sinks/sink.ts";
import { loadFixtures } from "../support/env.ts";

describe("SinkClosedError", () => {
  it("names the sink and is terminal", () => {
    const err = new SinkClosedError("eventqueue");
    assert.equal(err.name, "SinkClosedError");
    assert.equal(err.message, "eventqueue: closed");
    assert.ok(err instanceof Error);
  });
  it("the test server serves every fixture", async () => {
    const all = await loadFixtures();
    assert.equal(all.length, 79);
    assert.ok(all.every((f) => f.text.startsWith('{\n   "events"')));
  });
});

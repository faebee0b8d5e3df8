import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatTimestamp, isTimestamp, uuidv4, uuidv7 } from "../../src/event/ids.ts";

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit Unix milliseconds of a v7 id. */
const v7Time = (id: string): number => Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16);
/** The 12-bit rand_a counter of a v7 id. */
const v7Counter = (id: string): number => Number.parseInt(id.replace(/-/g, "").slice(13, 16), 16);

describe("uuidv4", () => {
  it("has the RFC 9562 version 4 layout and does not repeat", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuidv4();
      assert.match(id, V4);
      ids.add(id);
    }
    assert.equal(ids.size, 2000);
  });
});

describe("uuidv7", () => {
  it("has the version 7 layout with the given millisecond in the first 48 bits", () => {
    const now = Date.UTC(2025, 0, 1);
    const id = uuidv7(now);
    assert.match(id, V7);
    assert.equal(id.slice(0, 13), "01941f29-7c00");
    assert.equal(v7Time(id), now);
  });

  it("uses the current time by default", () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    assert.match(id, V7);
    assert.ok(
      v7Time(id) >= before && v7Time(id) <= after + 1,
      `${v7Time(id)} in [${before}, ${after}]`,
    );
  });

  it("is strictly increasing within one millisecond and across a burst", () => {
    let previous = uuidv7();
    for (let i = 0; i < 5000; i++) {
      const id = uuidv7();
      assert.match(id, V7);
      if (!(id > previous)) assert.fail(`${id} is not after ${previous}`);
      previous = id;
    }
  });

  it("keeps order for a fixed explicit time beyond the 4096 counter values (time runs ahead)", () => {
    const now = Date.UTC(2999, 0, 1); // later than any id made so far in this process
    const ids = Array.from({ length: 6000 }, () => uuidv7(now));
    for (let i = 1; i < ids.length; i++)
      assert.ok((ids[i] as string) > (ids[i - 1] as string), `index ${i}`);
    assert.equal(v7Time(ids[0] as string), now);
    assert.ok(
      v7Time(ids[ids.length - 1] as string) > now,
      "overflow moved to the next millisecond",
    );
    assert.equal(v7Counter(ids[1] as string), v7Counter(ids[0] as string) + 1);
  });

  it("honours an explicit earlier time as given", () => {
    uuidv7(Date.UTC(3000, 0, 1));
    const earlier = Date.UTC(2020, 5, 15);
    assert.equal(v7Time(uuidv7(earlier)), earlier);
  });

  it("accepts the extremes of the 48-bit range (last: it moves the explicit sequence to the end)", () => {
    assert.equal(v7Time(uuidv7(0)), 0);
    assert.equal(v7Time(uuidv7(2 ** 48 - 1)), 2 ** 48 - 1);
    assert.equal(v7Time(uuidv7(2 ** 48 - 1)), 2 ** 48 - 1, "no run-ahead past the maximum");
  });

  it("rejects times that do not fit 48 bits or are not integers", () => {
    for (const bad of [-1, 1.5, 2 ** 48, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => uuidv7(bad), { name: "RangeError" }, String(bad));
    }
    assert.throws(() => uuidv7(-1), {
      message: "uuidv7: now must be an integer millisecond time in [0, 2^48), got -1",
    });
  });
});

describe("formatTimestamp (Go time.RFC3339Nano in UTC)", () => {
  const at = new Date("2006-01-02T15:04:05Z");

  it("writes a whole second without a fraction", () => {
    assert.equal(formatTimestamp(at), "2006-01-02T15:04:05Z");
    assert.equal(formatTimestamp(at, 0), "2006-01-02T15:04:05Z");
  });

  it("trims trailing zeros of up to nine fraction digits", () => {
    assert.equal(formatTimestamp(new Date("2006-01-02T15:04:05.100Z")), "2006-01-02T15:04:05.1Z");
    assert.equal(formatTimestamp(new Date("2006-01-02T15:04:05.123Z")), "2006-01-02T15:04:05.123Z");
    assert.equal(formatTimestamp(at, 120_000), "2006-01-02T15:04:05.00012Z");
    assert.equal(formatTimestamp(at, 1), "2006-01-02T15:04:05.000000001Z");
    assert.equal(formatTimestamp(at, 999_999_999), "2006-01-02T15:04:05.999999999Z");
    assert.equal(formatTimestamp(at, 123_456_780), "2006-01-02T15:04:05.12345678Z");
  });

  it("nanos replace the date's milliseconds", () => {
    assert.equal(
      formatTimestamp(new Date("2006-01-02T15:04:05.900Z"), 5_000_000),
      "2006-01-02T15:04:05.005Z",
    );
  });

  it("writes UTC with four-digit years, before 1970 too", () => {
    assert.equal(formatTimestamp(new Date("0001-01-01T00:00:00Z")), "0001-01-01T00:00:00Z");
    assert.equal(formatTimestamp(new Date("1969-12-31T23:59:59.999Z")), "1969-12-31T23:59:59.999Z");
    assert.equal(
      formatTimestamp(new Date("2024-05-02T12:15:04.5+02:00")),
      "2024-05-02T10:15:04.5Z",
    );
  });

  it("formats the current time with sub-millisecond digits when the clock has them", () => {
    const before = Date.now();
    const text = formatTimestamp();
    const after = Date.now();
    assert.ok(isTimestamp(text), text);
    assert.match(text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
    const ms = Date.parse(text);
    assert.ok(ms >= before - 1 && ms <= after + 1, `${text} within [${before}, ${after}]`);
  });

  it("rejects invalid dates, out-of-range years and nanos", () => {
    assert.throws(() => formatTimestamp(new Date(Number.NaN)), {
      name: "RangeError",
      message: "formatTimestamp: invalid date",
    });
    assert.throws(() => formatTimestamp(new Date("+010000-01-01T00:00:00Z")), {
      name: "RangeError",
      message: "formatTimestamp: year 10000 is outside 0000-9999",
    });
    for (const bad of [-1, 1e9, 0.5]) {
      assert.throws(() => formatTimestamp(at, bad), { name: "RangeError" }, String(bad));
    }
  });

  it("round-trips through isTimestamp and Date", () => {
    for (let i = 0; i < 200; i++) {
      const date = new Date(
        Date.UTC(1970 + (i % 60), i % 12, 1 + (i % 28), i % 24, i % 60, (i * 7) % 60, i),
      );
      const text = formatTimestamp(date, (i * 7_654_321) % 1_000_000_000);
      assert.ok(isTimestamp(text), text);
      assert.equal(Math.floor(Date.parse(text) / 1000), Math.floor(date.getTime() / 1000));
    }
  });
});

describe("isTimestamp", () => {
  it("accepts RFC 3339 with 0-9 fraction digits and any offset, and checks the calendar", () => {
    for (const ok of [
      "2006-01-02T15:04:05Z",
      "2006-01-02T15:04:05.999999999Z",
      "2006-01-02T15:04:05.1-07:00",
      "2006-01-02t15:04:05+23:59",
      "2024-02-29T00:00:00Z",
      "2000-02-29T00:00:00Z",
      "2006-12-31T23:59:59Z",
      "2006-07-31T00:00:00Z",
      "2006-08-31T00:00:00Z",
    ]) {
      assert.equal(isTimestamp(ok), true, ok);
    }
    for (const bad of [
      "2006-01-02T15:04:05.1234567891Z",
      "2006-02-29T00:00:00Z",
      "2100-02-29T00:00:00Z",
      "2006-06-31T00:00:00Z",
      "2006-09-31T00:00:00Z",
      "2006-11-31T00:00:00Z",
      "2006-01-32T00:00:00Z",
      "2006-01-02T15:04:05",
      "2006-01-02T15:04:05+7:00",
      "x2006-01-02T15:04:05Z",
    ]) {
      assert.equal(isTimestamp(bad), false, bad);
    }
  });
});

// The Chromium run swaps node:assert/strict and node:test for test/support/browser-*.ts. These
// checks keep the shims honest: the assert shim must agree with Node's own node:assert/strict on
// every case below, and the runner must order hooks and report outcomes like node:test.
import nodeAssert from "node:assert/strict";
import { describe, expect, it } from "vitest";
import shim, { AssertionError, strictEqual } from "../support/browser-assert.ts";
import * as runner from "../support/browser-node-test.ts";

class Custom extends Error {
  code = "E_CUSTOM";
}

const pairs: [string, unknown, unknown][] = [
  ["same primitives", 1, 1],
  ["number vs string", 1, "1"],
  ["NaN", Number.NaN, Number.NaN],
  ["+0 vs -0", 0, -0],
  ["null vs undefined", null, undefined],
  ["objects", { a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }],
  ["object value types", { a: 1 }, { a: "1" }],
  ["missing key", { a: 1, b: undefined }, { a: 1 }],
  ["key order", { a: 1, b: 2 }, { b: 2, a: 1 }],
  ["arrays", [1, 2, 3], [1, 2, 3]],
  ["array length", [1, 2], [1, 2, undefined]],
  // biome-ignore lint/suspicious/noSparseArray: a hole is not undefined to deepStrictEqual.
  ["sparse vs undefined", [, 1], [undefined, 1]],
  ["array vs object", [1], { 0: 1 }],
  ["prototype", Object.create(null), {}],
  ["dates", new Date(5), new Date(5)],
  ["dates differ", new Date(5), new Date(6)],
  ["regexp", /a/g, /a/g],
  ["regexp flags", /a/g, /a/i],
  ["bytes", new Uint8Array([1, 2]), new Uint8Array([1, 2])],
  ["bytes differ", new Uint8Array([1, 2]), new Uint8Array([1, 3])],
  ["typed array kinds", new Uint8Array([1]), new Int8Array([1])],
  ["buffers", new Uint8Array([1]).buffer, new Uint8Array([1]).buffer],
  ["buffers differ", new Uint8Array([1]).buffer, new Uint8Array([2]).buffer],
  ["maps", new Map([["a", { x: 1 }]]), new Map([["a", { x: 1 }]])],
  ["maps differ", new Map([["a", 1]]), new Map([["a", 2]])],
  ["map object keys", new Map([[{ k: 1 }, 1]]), new Map([[{ k: 1 }, 1]])],
  ["sets", new Set([1, { a: 1 }]), new Set([{ a: 1 }, 1])],
  ["sets differ", new Set([1]), new Set(["1"])],
  ["errors", new Error("x"), new Error("x")],
  ["error messages", new Error("x"), new Error("y")],
  ["error classes", new Error("x"), new TypeError("x")],
  ["boxed", Object(1), Object(1)],
  ["boxed differ", Object(1), Object(2)],
  ["class instances", new Custom("m"), new Custom("m")],
  ["symbols keys", { [Symbol.for("s")]: 1 }, { [Symbol.for("s")]: 2 }],
];

const outcome = (fn: () => unknown) => {
  try {
    fn();
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.name : "thrown";
  }
};

describe("browser-assert agrees with node:assert/strict", () => {
  for (const [label, a, b] of pairs) {
    it(label, () => {
      for (const op of [
        "equal",
        "notEqual",
        "deepEqual",
        "notDeepEqual",
        "deepStrictEqual",
      ] as const) {
        expect(
          outcome(() => shim[op](a, b)),
          op,
        ).toBe(outcome(() => nodeAssert[op](a, b)));
      }
    });
  }

  it("ok, match, fail, ifError and the callable default export", () => {
    for (const value of [0, "", null, 1, "x", {}]) {
      expect(outcome(() => shim(value))).toBe(outcome(() => nodeAssert(value)));
      expect(outcome(() => shim.ok(value))).toBe(outcome(() => nodeAssert.ok(value)));
    }
    expect(outcome(() => shim.match("abc", /b/))).toBe("ok");
    expect(outcome(() => shim.match("abc", /x/))).toBe("AssertionError");
    expect(outcome(() => shim.doesNotMatch("abc", /b/))).toBe("AssertionError");
    expect(() => shim.fail("boom")).toThrow(AssertionError);
    expect(() => shim.ifError(new TypeError("t"))).toThrow(TypeError);
    expect(outcome(() => shim.ifError(null))).toBe("ok");
    expect(shim.strict).toBe(shim);
  });

  it("throws and rejects accept the same matchers", async () => {
    const thrower = () => {
      throw new Custom("bad thing");
    };
    const matchers: unknown[] = [
      undefined,
      Custom,
      Error,
      TypeError,
      /bad thing/,
      /Error: bad/,
      /nope/,
      { message: "bad thing" },
      { message: /bad/ },
      { code: "E_CUSTOM" },
      { code: "E_OTHER" },
      { missing: undefined },
      new Custom("bad thing"),
      (e: unknown) => e instanceof Custom,
    ];
    for (const matcher of matchers) {
      const label = String(matcher);
      const args = matcher === undefined ? [] : [matcher];
      expect(
        outcome(() => shim.throws(thrower, ...(args as [RegExp]))),
        label,
      ).toBe(outcome(() => nodeAssert.throws(thrower, ...(args as [RegExp]))));
      const settle = (p: Promise<void>) =>
        p.then(
          () => "ok",
          (e: Error) => e.name,
        );
      expect(await settle(shim.rejects(async () => thrower(), ...(args as [RegExp]))), label).toBe(
        await settle(nodeAssert.rejects(async () => thrower(), ...(args as [RegExp]))),
      );
    }
    expect(outcome(() => shim.throws(() => {}))).toBe("AssertionError");
    await expect(shim.rejects(Promise.resolve(1))).rejects.toThrow(/Missing expected rejection/);
    await expect(shim.doesNotReject(Promise.reject(new Error("x")))).rejects.toThrow(
      AssertionError,
    );
    expect(() => shim.doesNotThrow(thrower)).toThrow(AssertionError);
  });
});

describe("browser-node-test runner", () => {
  it("runs hooks in node:test order and reports pass, fail and skip", async () => {
    const order: string[] = [];
    runner.before(() => void order.push("file-before"));
    runner.describe("outer", () => {
      runner.before(() => void order.push("before"));
      runner.beforeEach(() => void order.push("outer-each"));
      runner.afterEach(() => void order.push("outer-after-each"));
      runner.after(() => void order.push("after"));
      runner.it("passes", async () => {
        await new Promise((r) => setTimeout(r, 1));
        order.push("test-1");
      });
      runner.describe("inner", () => {
        runner.beforeEach(() => void order.push("inner-each"));
        runner.afterEach(() => void order.push("inner-after-each"));
        runner.it("fails", () => {
          order.push("test-2");
          strictEqual(1, 2);
        });
      });
      runner.it.skip("is skipped", () => void order.push("never"));
      runner.it("skips itself", (t) => t.skip());
      runner.it("has a timeout", { timeout: 20 }, () => new Promise(() => {}));
      runner.it("uses done", (_t, done) => void setTimeout(() => done?.(), 1));
    });
    runner.describe("broken", () => {
      runner.it("never registered");
      throw new Error("describe body threw");
    });
    const results = await runner.run();
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ["outer > passes", "pass"],
      ["outer > inner > fails", "fail"],
      ["outer > is skipped", "skip"],
      ["outer > skips itself", "skip"],
      ["outer > has a timeout", "fail"],
      ["outer > uses done", "pass"],
      ["broken > never registered", "fail"],
    ]);
    expect(results[1]?.error).toMatch(/AssertionError/);
    expect(results[4]?.error).toMatch(/timed out after 20 ms/);
    expect(results[6]?.error).toMatch(/describe body threw/);
    expect(order.slice(0, 10)).toEqual([
      "file-before",
      "before",
      "outer-each",
      "test-1",
      "outer-after-each",
      "outer-each",
      "inner-each",
      "test-2",
      "inner-after-each",
      "outer-after-each",
    ]);
    expect(order).not.toContain("never");
    expect(order.at(-1)).toBe("after");
    // run() forgets what it ran: the next file starts empty.
    expect(await runner.run()).toEqual([]);
  });
});

// `node:assert/strict` for the Chromium run (scripts/run-browser.mjs), which has no Node
// built-ins. Strict semantics throughout, as in Node: `equal` is `Object.is`, `deepEqual` is
// `deepStrictEqual` (prototypes, tags, -0, Map/Set, typed arrays, errors), `throws`/`rejects`
// take the same matchers as Node (class, RegExp on String(error), validation function, object).

type Matcher =
  | RegExp
  | (new (
      ...args: never[]
    ) => unknown)
  | ((error: unknown) => boolean)
  | Record<string, unknown>
  | Error;

/** Thrown by every failed assertion, shaped like Node's. */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
  readonly code = "ERR_ASSERTION";
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  readonly generatedMessage: boolean;
  constructor(options: {
    message?: string | undefined;
    actual?: unknown;
    expected?: unknown;
    operator: string;
  }) {
    const generated = options.message === undefined;
    super(
      generated
        ? `${describeOperator(options.operator)}\n  actual:   ${inspect(options.actual)}\n  expected: ${inspect(options.expected)}`
        : options.message,
    );
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator;
    this.generatedMessage = generated;
  }
}

function describeOperator(operator: string): string {
  const texts: Record<string, string> = {
    strictEqual: "Expected values to be strictly equal:",
    notStrictEqual: 'Expected "actual" to be strictly unequal to "expected":',
    deepStrictEqual: "Expected values to be strictly deep-equal:",
    notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to "expected":',
    "==": "The expression evaluated to a falsy value:",
    match: "The input did not match the regular expression:",
    doesNotMatch: "The input was expected to not match the regular expression:",
  };
  return texts[operator] ?? `Assertion failed (${operator}):`;
}

/** A short, bounded rendering of a value for failure messages. */
export function inspect(value: unknown, depth = 0): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 500 ? `${value.slice(0, 500)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "function") return `[Function ${value.name || "anonymous"}]`;
  if (typeof value === "symbol" || value === undefined || value === null) return String(value);
  if (typeof value !== "object") return String(value);
  if (depth > 3) return "[…]";
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Date)
    return `Date(${Number.isNaN(value.getTime()) ? "Invalid" : value.toISOString()})`;
  if (value instanceof RegExp) return String(value);
  if (ArrayBuffer.isView(value)) {
    const bytes = Array.from(
      new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice(0, 64),
    );
    return `${value.constructor.name}(${value.byteLength}) [${bytes.join(", ")}${value.byteLength > 64 ? ", …" : ""}]`;
  }
  if (value instanceof Map) {
    const entries = [...value]
      .slice(0, 20)
      .map(([k, v]) => `${inspect(k, depth + 1)} => ${inspect(v, depth + 1)}`);
    return `Map(${value.size}) {${entries.join(", ")}}`;
  }
  if (value instanceof Set) {
    return `Set(${value.size}) {${[...value]
      .slice(0, 20)
      .map((v) => inspect(v, depth + 1))
      .join(", ")}}`;
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, 50).map((v) => inspect(v, depth + 1));
    return `[${items.join(", ")}${value.length > 50 ? ", …" : ""}]`;
  }
  const entries = Object.keys(value)
    .slice(0, 50)
    .map(
      (k) => `${JSON.stringify(k)}: ${inspect((value as Record<string, unknown>)[k], depth + 1)}`,
    );
  const name =
    value.constructor && value.constructor !== Object ? `${value.constructor.name} ` : "";
  return `${name}{${entries.join(", ")}}`;
}

const tag = (value: object) => Object.prototype.toString.call(value);
const boxedTags = new Set([
  "[object Number]",
  "[object String]",
  "[object Boolean]",
  "[object BigInt]",
  "[object Symbol]",
]);

/** Node's `util.isDeepStrictEqual` semantics. */
export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return deepEqual(a, b, new Map());
}

function deepEqual(a: unknown, b: unknown, seen: Map<object, object>): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return false;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (tag(a) !== tag(b)) return false;
  // Cycles: a pair already under comparison is assumed equal (its other fields decide).
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  try {
    return deepEqualObjects(a, b, seen);
  } finally {
    seen.delete(a);
  }
}

function deepEqualObjects(a: object, b: object, seen: Map<object, object>): boolean {
  if (a instanceof Date)
    return Object.is(a.getTime(), (b as Date).getTime()) && sameKeys(a, b, seen);
  if (a instanceof RegExp) {
    const r = b as RegExp;
    return (
      a.source === r.source &&
      a.flags === r.flags &&
      a.lastIndex === r.lastIndex &&
      sameKeys(a, b, seen)
    );
  }
  if (a instanceof Error) {
    const e = b as Error;
    if (a.message !== e.message || a.name !== e.name) return false;
    if ("cause" in a !== "cause" in e || !deepEqual(a.cause, e.cause, seen)) return false;
  }
  if (boxedTags.has(tag(a))) {
    const primitive = (o: object) => (o as { valueOf(): unknown }).valueOf();
    if (!Object.is(primitive(a), primitive(b))) return false;
  }
  if (ArrayBuffer.isView(a)) {
    const v = b as ArrayBufferView;
    if (a.byteLength !== v.byteLength) return false;
    if (a instanceof Float32Array || a instanceof Float64Array) {
      const other = b as Float32Array | Float64Array;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], other[i])) return false;
    } else {
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const y = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
    return sameKeys(a, b, seen, true);
  }
  if (tag(a) === "[object ArrayBuffer]" || tag(a) === "[object SharedArrayBuffer]") {
    const x = new Uint8Array(a as ArrayBuffer);
    const y = new Uint8Array(b as ArrayBuffer);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    const unmatched = new Set(m.keys());
    for (const [key, value] of a) {
      if (m.has(key) && (typeof key !== "object" || key === null)) {
        if (!deepEqual(value, m.get(key), seen)) return false;
        unmatched.delete(key);
        continue;
      }
      let found = false;
      for (const other of unmatched) {
        if (deepEqual(key, other, seen) && deepEqual(value, m.get(other), seen)) {
          unmatched.delete(other);
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return sameKeys(a, b, seen);
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    const unmatched = new Set(s);
    for (const value of a) {
      if (unmatched.has(value)) {
        unmatched.delete(value);
        continue;
      }
      let found = false;
      for (const other of unmatched) {
        if (deepEqual(value, other, seen)) {
          unmatched.delete(other);
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return sameKeys(a, b, seen);
  }
  if (a instanceof WeakMap || a instanceof WeakSet || a instanceof Promise) return false;
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  return sameKeys(a, b, seen);
}

/** Same own enumerable keys (strings and symbols) with deep-equal values. */
function sameKeys(a: object, b: object, seen: Map<object, object>, skipIndices = false): boolean {
  const keys = (o: object) =>
    [
      ...Object.keys(o).filter((k) => !(skipIndices && /^\d+$/.test(k))),
      ...Object.getOwnPropertySymbols(o).filter((s) =>
        Object.prototype.propertyIsEnumerable.call(o, s),
      ),
    ] as (string | symbol)[];
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  const kbSet = new Set(kb);
  for (const key of ka) {
    if (!kbSet.has(key)) return false;
    if (
      !deepEqual(
        (a as Record<PropertyKey, unknown>)[key],
        (b as Record<PropertyKey, unknown>)[key],
        seen,
      )
    ) {
      return false;
    }
  }
  return true;
}

function failWith(
  message: string | Error | undefined,
  details: Omit<ConstructorParameters<typeof AssertionError>[0], "message">,
): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ ...details, message });
}

/** `assert(value)`: throws unless `value` is truthy. */
function assert(value: unknown, message?: string | Error): asserts value {
  ok(value, message);
}

export function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) {
    failWith(message ?? "The expression evaluated to a falsy value", {
      actual: value,
      expected: true,
      operator: "==",
    });
  }
}

export function strictEqual<T>(
  actual: unknown,
  expected: T,
  message?: string | Error,
): asserts actual is T {
  if (!Object.is(actual, expected))
    failWith(message, { actual, expected, operator: "strictEqual" });
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected))
    failWith(message, { actual, expected, operator: "notStrictEqual" });
}

export function deepStrictEqual<T>(
  actual: unknown,
  expected: T,
  message?: string | Error,
): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected))
    failWith(message, { actual, expected, operator: "deepStrictEqual" });
}

export function notDeepStrictEqual(
  actual: unknown,
  expected: unknown,
  message?: string | Error,
): void {
  if (isDeepStrictEqual(actual, expected)) {
    failWith(message, { actual, expected, operator: "notDeepStrictEqual" });
  }
}

export function match(value: string, pattern: RegExp, message?: string | Error): void {
  if (typeof value !== "string" || !pattern.test(value)) {
    failWith(message, { actual: value, expected: pattern, operator: "match" });
  }
}

export function doesNotMatch(value: string, pattern: RegExp, message?: string | Error): void {
  if (typeof value !== "string" || pattern.test(value)) {
    failWith(message, { actual: value, expected: pattern, operator: "doesNotMatch" });
  }
}

export function fail(message: string | Error = "Failed"): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, operator: "fail" });
}

export function ifError(value: unknown): void {
  if (value !== null && value !== undefined) {
    if (value instanceof Error) throw value;
    throw new AssertionError({
      message: `ifError got unwanted exception: ${inspect(value)}`,
      actual: value,
      expected: null,
      operator: "ifError",
    });
  }
}

/** Node's `expectedException`: checks a caught error against a matcher. */
function checkError(
  actual: unknown,
  expected: Matcher | undefined,
  message: string | Error | undefined,
  operator: string,
): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (expected.test(String(actual))) return;
    failWith(
      message ??
        `The input did not match the regular expression ${expected}. Input:\n\n${inspect(String(actual))}\n`,
      { actual, expected, operator },
    );
  }
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && actual instanceof (expected as new () => unknown))
      return;
    if (expected === Error || Object.prototype.isPrototypeOf.call(Error, expected)) {
      failWith(
        message ??
          `The error is expected to be an instance of "${expected.name}". Received ${inspect(actual)}`,
        { actual, expected, operator },
      );
    }
    const verdict = (expected as (error: unknown) => unknown).call({}, actual);
    if (verdict === true) return;
    failWith(
      message ??
        `The validation function is expected to return "true". Received ${inspect(verdict)}\n\nCaught error:\n\n${inspect(actual)}`,
      { actual, expected, operator },
    );
  }
  if (typeof expected === "object" && expected !== null) {
    const keys = Object.keys(expected);
    if (expected instanceof Error) keys.push("name", "message");
    for (const key of keys) {
      const want = (expected as Record<string, unknown>)[key];
      const got =
        typeof actual === "object" && actual !== null
          ? (actual as Record<string, unknown>)[key]
          : undefined;
      if (want instanceof RegExp && typeof got === "string" && want.test(got)) continue;
      if (
        !(typeof actual === "object" && actual !== null && key in actual) ||
        !isDeepStrictEqual(got, want)
      ) {
        failWith(
          message ??
            `Expected error property ${JSON.stringify(key)} to be ${inspect(want)}, got ${inspect(got)}`,
          { actual, expected, operator },
        );
      }
    }
    return;
  }
  throw new TypeError(`${operator}: unsupported matcher ${inspect(expected)}`);
}

function splitArgs(
  expected: Matcher | string | undefined,
  message: string | Error | undefined,
): [Matcher | undefined, string | Error | undefined] {
  return typeof expected === "string" ? [undefined, expected] : [expected, message];
}

export function throws(
  fn: () => unknown,
  expected?: Matcher | string,
  message?: string | Error,
): void {
  const [matcher, text] = splitArgs(expected, message);
  try {
    fn();
  } catch (error) {
    checkError(error, matcher, text, "throws");
    return;
  }
  failWith(text ?? "Missing expected exception.", {
    actual: undefined,
    expected: matcher,
    operator: "throws",
  });
}

export function doesNotThrow(fn: () => unknown, message?: string | Error): void {
  try {
    fn();
  } catch (error) {
    failWith(message ?? `Got unwanted exception.\nActual message: "${(error as Error)?.message}"`, {
      actual: error,
      expected: undefined,
      operator: "doesNotThrow",
    });
  }
}

async function settle(
  target: Promise<unknown> | (() => Promise<unknown>),
  operator: string,
): Promise<{ error?: unknown; rejected: boolean }> {
  const promise = typeof target === "function" ? target() : target;
  if (!promise || typeof (promise as Promise<unknown>).then !== "function") {
    throw new TypeError(`${operator}: expected a promise or a function returning one`);
  }
  try {
    await promise;
    return { rejected: false };
  } catch (error) {
    return { error, rejected: true };
  }
}

export async function rejects(
  target: Promise<unknown> | (() => Promise<unknown>),
  expected?: Matcher | string,
  message?: string | Error,
): Promise<void> {
  const [matcher, text] = splitArgs(expected, message);
  const outcome = await settle(target, "rejects");
  if (!outcome.rejected)
    failWith(text ?? "Missing expected rejection.", {
      actual: undefined,
      expected: matcher,
      operator: "rejects",
    });
  checkError(outcome.error, matcher, text, "rejects");
}

export async function doesNotReject(
  target: Promise<unknown> | (() => Promise<unknown>),
  message?: string | Error,
): Promise<void> {
  const outcome = await settle(target, "doesNotReject");
  if (outcome.rejected) {
    failWith(
      message ?? `Got unwanted rejection.\nActual message: "${(outcome.error as Error)?.message}"`,
      { actual: outcome.error, expected: undefined, operator: "doesNotReject" },
    );
  }
}

const api = {
  AssertionError,
  ok,
  equal: strictEqual,
  notEqual: notStrictEqual,
  strictEqual,
  notStrictEqual,
  deepEqual: deepStrictEqual,
  deepStrictEqual,
  notDeepEqual: notDeepStrictEqual,
  notDeepStrictEqual,
  match,
  doesNotMatch,
  throws,
  doesNotThrow,
  rejects,
  doesNotReject,
  fail,
  ifError,
};

type Strict = typeof assert & typeof api & { strict: Strict };
const strict: Strict = Object.assign(assert, api) as Strict;
strict.strict = strict;

export {
  deepStrictEqual as deepEqual,
  notDeepStrictEqual as notDeepEqual,
  notStrictEqual as notEqual,
  strict,
  strictEqual as equal,
};
export default strict;

// `node:test` for the Chromium run (scripts/run-browser.mjs): a small describe/it runner with
// node:test's shape. Importing a test file registers its suites; `run()` then executes them in
// order (hooks: before/after once per suite, beforeEach/afterEach inherited outer to inner) and
// returns one result per test. Each test file is bundled with its own copy of this module.

type Fn = (context: TestContext, done?: (error?: unknown) => void) => unknown;
type HookFn = () => unknown;

/** The subset of node:test options honoured here (`only` runs like any test, as in node:test without --test-only). */
export interface TestOptions {
  skip?: boolean | string;
  todo?: boolean | string;
  only?: boolean;
  timeout?: number;
}

/** The part of node:test's TestContext the core tests may use. */
export interface TestContext {
  name: string;
  signal: AbortSignal;
  diagnostic(message: string): void;
  skip(message?: string): void;
  todo(message?: string): void;
}

interface TestCase {
  name: string;
  fn: Fn | undefined;
  options: TestOptions;
}

interface Suite {
  name: string;
  options: TestOptions;
  parent: Suite | undefined;
  children: (Suite | TestCase)[];
  before: HookFn[];
  after: HookFn[];
  beforeEach: HookFn[];
  afterEach: HookFn[];
  /** Set when the describe body itself threw. */
  error?: unknown;
}

/** One finished test. */
export interface TestResult {
  name: string;
  status: "pass" | "fail" | "skip";
  ms: number;
  error?: string;
  diagnostics?: string[];
}

/** A test with no `timeout` option fails after this long (node:test waits forever; a page cannot). */
export const defaultTimeoutMs = 10_000;

const newSuite = (name: string, options: TestOptions, parent?: Suite): Suite => ({
  name,
  options,
  parent,
  children: [],
  before: [],
  after: [],
  beforeEach: [],
  afterEach: [],
});

const root = newSuite("", {});
let current: Suite = root;

function parseArgs(args: unknown[]): { name: string; options: TestOptions; fn: Fn | undefined } {
  let name = "<anonymous>";
  let options: TestOptions = {};
  let fn: Fn | undefined;
  for (const arg of args) {
    if (typeof arg === "string") name = arg;
    else if (typeof arg === "function") {
      fn = arg as Fn;
      if (name === "<anonymous>" && arg.name) name = arg.name;
    } else if (arg && typeof arg === "object") options = arg as TestOptions;
  }
  return { name, options, fn };
}

function isSuite(node: Suite | TestCase): node is Suite {
  return "children" in node;
}

/** node:test's call shapes: `(name, fn)`, `(name, options, fn)`, `(fn)`. */
type Register = {
  (name: string, fn?: Fn): void;
  (name: string, options: TestOptions, fn?: Fn): void;
  (fn: Fn): void;
};
type Registrar = Register & { skip: Register; todo: Register; only: Register };

function registrar(register: (args: unknown[], extra: TestOptions) => void): Registrar {
  const withOptions =
    (extra: TestOptions) =>
    (...args: unknown[]) =>
      register(args, extra);
  return Object.assign(withOptions({}) as Register, {
    skip: withOptions({ skip: true }) as Register,
    todo: withOptions({ todo: true }) as Register,
    only: withOptions({ only: true }) as Register,
  });
}

/** Declares a suite; its body runs now, registering tests and hooks. */
export const describe: Registrar = registrar((args, extra) => {
  const { name, options, fn } = parseArgs(args);
  const suite = newSuite(name, { ...options, ...extra }, current);
  current.children.push(suite);
  const previous = current;
  current = suite;
  try {
    const result = fn?.call(undefined, undefined as unknown as TestContext);
    if (result && typeof (result as Promise<unknown>).then === "function") {
      suite.error = new Error(
        `describe("${name}") returned a promise: register tests synchronously`,
      );
    }
  } catch (error) {
    suite.error = error;
  } finally {
    current = previous;
  }
});

/** Declares a test. */
export const it: Registrar = registrar((args, extra) => {
  const { name, options, fn } = parseArgs(args);
  current.children.push({ name, fn, options: { ...options, ...extra } });
});

export const test = it;
export const suite = describe;

export function before(fn: HookFn): void {
  current.before.push(fn);
}
export function after(fn: HookFn): void {
  current.after.push(fn);
}
export function beforeEach(fn: HookFn): void {
  current.beforeEach.push(fn);
}
export function afterEach(fn: HookFn): void {
  current.afterEach.push(fn);
}

class Skipped {
  constructor(readonly reason: string) {}
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack ?? "";
    const head = `${error.name}: ${error.message}`;
    return stack.includes(error.message) ? stack : `${head}\n${stack}`;
  }
  return String(error);
}

async function withTimeout<T>(
  work: () => Promise<T>,
  ms: number,
  what: string,
  abort?: AbortController,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort?.abort(new Error(`${what} timed out after ${ms} ms`));
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runHooks(hooks: HookFn[], what: string): Promise<void> {
  for (const hook of hooks) await withTimeout(async () => hook(), defaultTimeoutMs, what);
}

function eachHooks(suite: Suite | undefined, kind: "beforeEach" | "afterEach"): HookFn[] {
  const chain: Suite[] = [];
  for (let s = suite; s; s = s.parent) chain.unshift(s);
  const hooks = chain.flatMap((s) => s[kind]);
  // afterEach runs innermost first, as in node:test.
  return kind === "afterEach" ? hooks.reverse() : hooks;
}

async function runTest(test: TestCase, suite: Suite, path: string): Promise<TestResult> {
  const started = performance.now();
  const diagnostics: string[] = [];
  const skip = test.options.skip ?? test.options.todo;
  if (skip || !test.fn) {
    return { name: path, status: "skip", ms: 0 };
  }
  const abort = new AbortController();
  const context: TestContext = {
    name: test.name,
    signal: abort.signal,
    diagnostic: (message) => diagnostics.push(message),
    skip: (message) => {
      throw new Skipped(message ?? "skipped");
    },
    todo: (message) => {
      throw new Skipped(message ?? "todo");
    },
  };
  const fn = test.fn;
  const body = () =>
    fn.length >= 2
      ? new Promise<void>((resolve, reject) => {
          fn(context, (error?: unknown) => (error ? reject(error) : resolve()));
        })
      : Promise.resolve(fn(context));
  let status: TestResult["status"] = "pass";
  let error: string | undefined;
  try {
    await runHooks(eachHooks(suite, "beforeEach"), `beforeEach of "${path}"`);
    await withTimeout(body, test.options.timeout ?? defaultTimeoutMs, `test "${path}"`, abort);
  } catch (caught) {
    if (caught instanceof Skipped) status = "skip";
    else {
      status = "fail";
      error = describeError(caught);
    }
  }
  try {
    await runHooks(eachHooks(suite, "afterEach"), `afterEach of "${path}"`);
  } catch (caught) {
    if (status !== "fail") error = describeError(caught);
    status = "fail";
  }
  abort.abort();
  const result: TestResult = { name: path, status, ms: Math.round(performance.now() - started) };
  if (error !== undefined) result.error = error;
  if (diagnostics.length > 0) result.diagnostics = diagnostics;
  return result;
}

function allTests(suite: Suite, prefix: string): string[] {
  return suite.children.flatMap((child) => {
    const path = prefix ? `${prefix} > ${child.name}` : child.name;
    return isSuite(child) ? allTests(child, path) : [path];
  });
}

async function runSuite(suite: Suite, prefix: string, results: TestResult[]): Promise<void> {
  const failAll = (error: string) => {
    const names = allTests(suite, prefix);
    if (names.length === 0) names.push(prefix || "<file>");
    for (const name of names) results.push({ name, status: "fail", ms: 0, error });
  };
  if (suite.error !== undefined) return failAll(describeError(suite.error));
  if (suite.options.skip || suite.options.todo) {
    for (const name of allTests(suite, prefix)) results.push({ name, status: "skip", ms: 0 });
    return;
  }
  try {
    await runHooks(suite.before, `before of "${prefix || "<file>"}"`);
  } catch (error) {
    return failAll(`before hook failed: ${describeError(error)}`);
  }
  for (const child of suite.children) {
    const path = prefix ? `${prefix} > ${child.name}` : child.name;
    if (isSuite(child)) await runSuite(child, path, results);
    else results.push(await runTest(child, suite, path));
  }
  try {
    await runHooks(suite.after, `after of "${prefix || "<file>"}"`);
  } catch (error) {
    results.push({
      name: `${prefix || "<file>"} (after hook)`,
      status: "fail",
      ms: 0,
      error: describeError(error),
    });
  }
}

/** Runs everything registered so far (one test file), then forgets it. */
export async function run(): Promise<TestResult[]> {
  const results: TestResult[] = [];
  await runSuite(root, "", results);
  root.children = [];
  root.before = [];
  root.after = [];
  root.beforeEach = [];
  root.afterEach = [];
  return results;
}

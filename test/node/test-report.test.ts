// How `npm test` reports (scripts/run-lib.mjs): a passing run prints only a line per runner and
// the totals, never a runner's own output (that goes to .tmp/<runner>.log); a failing runner's
// failures are printed; no ANSI escapes when the output is not a terminal; the last line is
// `N passed, N failed`. The runners here are tiny `node -e` scripts.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import {
  childEnv,
  failureExcerpt,
  runAll,
  runCounted,
  stripAnsi,
  summaryCounts,
  tmp,
} from "../../scripts/run-lib.mjs";

const names: string[] = [];
/** A runner named `report-test-<what>-<pid>` that runs `script` with node and counts its output. */
function fakeRunner(what: string, script: string): [string, () => Promise<unknown>] {
  const name = `report-test-${what}-${process.pid}`;
  names.push(name);
  const run = () =>
    runCounted(name, process.execPath, ["-e", script], { count: summaryCounts, isTTY: false });
  return [name, run];
}
afterAll(() => {
  for (const name of names) rmSync(join(tmp, `${name}.log`), { force: true });
});

/** What runAll prints for `runners` when our output is not a terminal, and its exit code. */
async function report(runners: [string, () => Promise<unknown>][]) {
  let text = "";
  const code = await runAll(runners, { write: (chunk: string) => (text += chunk), isTTY: false });
  return { code, text, lines: text.trimEnd().split("\n") };
}

// Noise a passing runner makes on purpose (an error it provokes, a native stack, colours).
const noisy = `
  console.error("\\x1b[31mexception = kj/async-io.c++:60: disconnected\\x1b[39m");
  console.error("stack: /bin/workerd@51ccf21 /bin/workerd@51cd135");
  console.log("\\x1b[32m✓\\x1b[39m 3 tests, NO_COLOR=" + process.env.NO_COLOR + " FORCE_COLOR=" + process.env.FORCE_COLOR);
  console.log("3 passed, 0 failed");
`;
// A failing runner: colours, noise, a failure section, a summary.
const failing = `
  console.error("uncaught exception; stack = Error: Network connection lost.");
  console.log("\\x1b[32m✓\\x1b[39m fine one");
  console.log("\\x1b[31m✖ failing tests:\\x1b[39m");
  console.log("");
  console.log("✖ adds up (1ms)");
  console.log("  AssertionError: 1 !== 2");
  console.log("1 passed, 1 failed");
  process.exit(1);
`;

describe("npm test's report (scripts/run-lib.mjs runAll)", () => {
  it("a passing run: a line per runner start and end, the table, the totals; no runner output", async () => {
    const [name, run] = fakeRunner("pass", noisy);
    const echoed = [vi.spyOn(process.stdout, "write"), vi.spyOn(process.stderr, "write")];
    const { code, text, lines } = await report([[name, run]]);
    for (const spy of echoed) {
      expect(spy.mock.calls.flat().join("")).not.toContain("kj/async-io"); // nothing passed through
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect(text).not.toContain("\x1b");
    expect(text).not.toMatch(/exception|stack:|✓/);
    expect(lines.at(-1)).toBe("3 passed, 0 failed");
    expect(lines.at(-2)).toMatch(
      new RegExp(`^${name}: 3 passed, 0 failed in \\d+\\.\\d s \\(log: \\.tmp/${name}\\.log\\)$`),
    );
    expect(lines).toHaveLength(6); // start, end, blank, "━━ summary", the table's row, totals
    // The whole output is in the log, without escapes; the child was told not to colour.
    const log = readFileSync(join(tmp, `${name}.log`), "utf8");
    expect(log).toContain("exception = kj/async-io.c++:60: disconnected");
    expect(log).toContain("✓ 3 tests, NO_COLOR=1 FORCE_COLOR=undefined");
    expect(log).not.toContain("\x1b");
  });

  it("a failing run prints the failure section of the failing runner, and counts it", async () => {
    const pass = fakeRunner("ok", noisy);
    const fail = fakeRunner("fail", failing);
    const { code, text, lines } = await report([pass, fail]);
    expect(code).toBe(1);
    expect(text).not.toContain("\x1b");
    expect(text).toContain("✖ failing tests:\n\n✖ adds up (1ms)\n  AssertionError: 1 !== 2\n");
    expect(text).not.toContain("Network connection lost"); // before the failure section
    expect(text).not.toContain("kj/async-io"); // the passing runner's noise
    expect(text).toContain(`all of it: .tmp/${fail[0]}.log`);
    expect(lines.at(-1)).toBe("4 passed, 1 failed");
    expect(lines.at(-2)).toMatch(/^failed: report-test-fail-\d+/);
  });

  it("a runner that throws or crashes counts as one failure, with what there is to show", async () => {
    const crash = fakeRunner("crash", 'console.log("no summary here"); process.exit(3);');
    const thrower: [string, () => Promise<unknown>] = [
      "thrower",
      async () => {
        throw new Error("cannot start");
      },
    ];
    const { code, text, lines } = await report([crash, thrower]);
    expect(code).toBe(1);
    expect(text).toContain("no summary here");
    expect(text).toContain("thrower: 0 passed, 1 failed in");
    expect(text).toContain("crashed: cannot start");
    expect(lines.at(-1)).toBe("0 passed, 2 failed");
  });
});

describe("failureExcerpt", () => {
  const noise = Array.from({ length: 50 }, (_, i) => `noise ${i}`);
  it("takes vitest's failure sections", () => {
    const text = [
      ...noise,
      "⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯",
      "",
      " FAIL  a.test.ts > fails",
      "AssertionError: expected 1 to be 2",
      "",
      " Test Files  1 failed (1)",
    ].join("\n");
    expect(failureExcerpt(text)).toMatch(/^⎯+ Failed Tests 1 ⎯+\n\n FAIL {2}a\.test\.ts/);
    expect(failureExcerpt(text)).not.toContain("noise");
  });
  it("takes Deno's ERRORS section, or its type errors", () => {
    const text = [...noise, "", " ERRORS ", "", "bad => ./x.test.ts:4:1", "error: boom"].join("\n");
    expect(failureExcerpt(text)).toBe(" ERRORS \n\nbad => ./x.test.ts:4:1\nerror: boom");
    const typeError = [
      "Check a.test.ts",
      "TS2559 [ERROR]: Type 'x' ...",
      "error: Type checking failed.",
    ];
    expect(failureExcerpt(typeError.join("\n"))).toBe(typeError.slice(1).join("\n"));
  });
  it("takes each Bun (fail) with its error, and the summary", () => {
    const text = [
      "x.test.ts:",
      "(pass) one [1ms]",
      "noise between",
      "(pass) two [1ms]",
      "error: expected 2",
      "(fail) three [1ms]",
      "(pass) four [1ms]",
      "",
      " 3 pass",
      " 1 fail",
    ].join("\n");
    expect(failureExcerpt(text)).toBe("error: expected 2\n(fail) three [1ms]\n\n 3 pass\n 1 fail");
  });
  it("falls back to the last lines, and caps a long section keeping its end", () => {
    expect(failureExcerpt(noise.join("\n"), { maxLines: 3 })).toBe("noise 47\nnoise 48\nnoise 49");
    const long = ["✖ failing tests:", ...noise].join("\n");
    const excerpt = failureExcerpt(long, { maxLines: 20 }).split("\n");
    expect(excerpt).toHaveLength(20);
    expect(excerpt[0]).toBe("✖ failing tests:");
    expect(excerpt.at(-1)).toBe("noise 49");
    expect(excerpt).toContain("… 32 more line(s), see the log …");
  });
});

describe("colours", () => {
  it("stripAnsi removes colours, hyperlinks and redrawn progress", () => {
    const text =
      "\x1b[1m\x1b[32mok\x1b[39m\x1b[22m \x1b]8;;https://x\x07link\x1b]8;;\x07\r\n10%\r50%\rdone\n";
    expect(stripAnsi(text)).toBe("ok link\ndone\n");
  });
  it("children get NO_COLOR and no FORCE_COLOR (Deno reads FORCE_COLOR=0 as on) off a terminal", () => {
    vi.stubEnv("FORCE_COLOR", "1");
    try {
      expect(childEnv({}, false).NO_COLOR).toBe("1");
      expect("FORCE_COLOR" in childEnv({}, false)).toBe(false);
      expect(childEnv({}, true).FORCE_COLOR).toBe("1");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

// Shared plumbing of the scripts: the repo root, an async child-process runner (never spawnSync:
// the same process hosts the test server the children talk to), and the test runners of
// scripts/test.mjs with their counts. Only node built-ins: test.mjs imports this before `npm ci`.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const tmp = join(root, ".tmp");
export const bin = (name) => join(root, "node_modules", ".bin", name);

// ANSI escapes: CSI (colours, cursor moves), OSC (titles, hyperlinks) and two-byte escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC.
const ansi = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

/**
 * `text` as a log or a pipe should hold it: without ANSI escapes, CRLF as LF, and of a line a
 * spinner or progress bar redrew with `\r`, only the last drawing.
 */
export const stripAnsi = (text) =>
  text
    .replace(ansi, "")
    .replace(/\r\n/g, "\n")
    .replace(/^[^\n]*\r(?=[^\n])/gm, "")
    .replace(/\r$/gm, "");

/** Whether our output goes to a terminal (else: no colours anywhere, ours or the children's). */
const stdoutIsTTY = () => Boolean(process.stdout.isTTY);

/**
 * A child's environment: ours plus `env`; when our output is not a terminal, NO_COLOR=1 and no
 * FORCE_COLOR, so the children write plain text (what escapes remain are stripped). Not
 * FORCE_COLOR=0: Deno (and picocolors without NO_COLOR) read any non-empty FORCE_COLOR, "0"
 * too, as "colours on".
 */
export function childEnv(env = {}, isTTY = stdoutIsTTY()) {
  const base = { ...process.env };
  if (!isTTY) {
    base.NO_COLOR = "1";
    delete base.FORCE_COLOR;
  }
  return { ...base, ...env };
}

/** Calls `write` with whole lines of what `push` gets, cleaned by {@link stripAnsi}. */
function lineSplitter(write) {
  let partial = "";
  return {
    push(text) {
      partial += text;
      const end = partial.lastIndexOf("\n");
      if (end === -1) return;
      write(stripAnsi(partial.slice(0, end + 1)));
      partial = partial.slice(end + 1);
    },
    flush() {
      if (partial) write(`${stripAnsi(partial)}\n`);
      partial = "";
    },
  };
}

/**
 * Runs a command asynchronously, writing its output (stdout and stderr, as lines without ANSI
 * escapes) to `.tmp/<log>` and, unless `quiet`, to ours (as it comes when ours is a terminal).
 * Kills the whole process group after `timeoutMs`. Resolves with `{ code, output, timedOut, ms }`:
 * `output` is the cleaned text of the log; `code` is null if it died from a signal.
 */
export function run(
  command,
  args,
  { env = {}, log, timeoutMs = 600_000, quiet = false, cwd = root, isTTY = stdoutIsTTY() } = {},
) {
  mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  const file = log ? createWriteStream(join(tmp, log)) : undefined;
  return new Promise((done) => {
    let output = "";
    let timedOut = false;
    const child = spawn(command, args, {
      cwd,
      env: childEnv(env, isTTY),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // own process group, so a timeout can kill grandchildren too
    });
    const splitters = [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ].map(([from, to]) => {
      from.setEncoding("utf8"); // never splits a character across chunks
      const lines = lineSplitter((text) => {
        output += text;
        file?.write(text);
        if (!quiet && !isTTY) to.write(text);
      });
      from.on("data", (chunk) => {
        lines.push(chunk);
        if (!quiet && isTTY) to.write(chunk);
      });
      return lines;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeoutMs);
    let finished = false;
    const finish = (code, error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      for (const lines of splitters) lines.flush();
      if (error) {
        output += `${error.message}\n`;
        file?.write(`${error.message}\n`);
      }
      file?.end();
      done({ code, output, timedOut, ms: Date.now() - started });
    };
    child.on("error", (error) => finish(null, error));
    child.on("close", (code) => finish(code));
  });
}

/** `.tmp/<log>`, as printed. */
export const logPath = (log) => `.tmp/${log}`;

/**
 * A runner's outcome. `crashed` means the runner itself failed (exit code without failing
 * tests, timeout, no report): it counts as one more failure. `log` is where its full output is;
 * `excerpt` what of that output to print when it failed.
 */
function outcome(
  name,
  { passed = 0, failed = 0, skipped = 0, crashed = "", ms = 0, log = "", excerpt = "" },
) {
  return { name, passed, failed: failed + (crashed ? 1 : 0), skipped, crashed, ms, log, excerpt };
}

/** `vitest: 986 passed, 0 failed in 104.5 s (log: .tmp/vitest.log)`; `width` pads the name. */
function formatOutcome(o, width = 0) {
  const skipped = o.skipped ? `, ${o.skipped} skipped` : "";
  const crashed = o.crashed ? `, crashed: ${o.crashed}` : "";
  const log = o.log ? ` (log: ${o.log})` : "";
  const name = `${o.name}:`.padEnd(width + 1);
  return `${name} ${o.passed} passed, ${o.failed} failed${skipped} in ${(o.ms / 1000).toFixed(1)} s${crashed}${log}`;
}

/**
 * Where the failures are in a runner's output: from the first failure section (vitest's
 * `⎯⎯ Failed Tests 2 ⎯⎯`, `Failed Suites`, `Unhandled Errors`; node:test's `✖ failing tests:`;
 * Deno's ` ERRORS `/` FAILURES ` and type errors) to the end; else Bun's `(fail)` lines, each
 * with the lines before it that belong to it (its error), and the summary; else the last
 * `maxLines` lines. At most `maxLines` lines: the section's start and its last lines (summary).
 */
export function failureExcerpt(text, { maxLines = 200 } = {}) {
  const lines = stripAnsi(text).replace(/\n+$/, "").split("\n");
  const sectionStarts = [
    /^⎯{2,} \S.* ⎯{2,}$/,
    /^✖ failing tests:$/,
    /^ (ERRORS|FAILURES) $/,
    /^(ERRORS|FAILURES)$/,
    /^TS\d+ \[ERROR\]: /, // Deno's type check, before any test runs
  ];
  let picked;
  const section = lines.findIndex((line) => sectionStarts.some((re) => re.test(line)));
  if (section !== -1) picked = lines.slice(section);
  else if (lines.some((line) => line.startsWith("(fail) "))) {
    // Bun: a test's output and error come before its `(fail)` line.
    const boundary = /^\((pass|fail|skip|todo)\) |^\S.*\.(test|spec)\.[cm]?[jt]sx?:$/;
    picked = [];
    let from = 0;
    let last = 0;
    lines.forEach((line, index) => {
      if (line.startsWith("(fail) ")) picked.push(...lines.slice(from, index + 1), "");
      if (boundary.test(line)) {
        from = index + 1;
        last = index + 1;
      }
    });
    const summary = lines.slice(last);
    while (summary.length > 0 && summary[0].trim() === "") summary.shift();
    picked.push(...summary);
  } else picked = lines.slice(-maxLines);
  while (picked.length > 0 && picked[0].trim() === "") picked.shift();
  if (picked.length > maxLines) {
    const tail = Math.min(20, Math.floor(maxLines / 4));
    const head = maxLines - tail - 1;
    const left = picked.length - head - tail;
    picked = [
      ...picked.slice(0, head),
      `… ${left} more line(s), see the log …`,
      ...picked.slice(-tail),
    ];
  }
  return picked.join("\n");
}

/**
 * The counts of a suite that prints them: its last `N passed, N failed` line, else a `node --test`
 * summary (`ℹ pass N` / `ℹ fail N`, or TAP `# pass N`), else its exit code (one passed or one
 * failed).
 */
export function summaryCounts(text, code) {
  const last = (pattern) => [...text.matchAll(pattern)].at(-1);
  const summary = last(/^(\d+) passed, (\d+) failed$/gm);
  if (summary) return { passed: Number(summary[1]), failed: Number(summary[2]) };
  const [pass, fail] = [last(/^[ℹ#] pass (\d+)$/gm), last(/^[ℹ#] fail (\d+)$/gm)];
  if (pass && fail) return { passed: Number(pass[1]), failed: Number(fail[1]) };
  return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/**
 * Runs one suite and counts it: `count(text, code)` gets the report file's text (with `report`)
 * or the output, plus the exit code, and returns `{ passed, failed, skipped }`. Its whole output
 * goes to `.tmp/<name>.log` (and to ours too only with `quiet: false`); a failed outcome carries
 * the {@link failureExcerpt} of it.
 */
export async function runCounted(
  name,
  command,
  args,
  { count, report, env, timeoutMs, quiet = true, isTTY },
) {
  if (report) await rm(report, { force: true });
  const log = `${name}.log`;
  const result = await run(command, args, { env, log, timeoutMs, quiet, isTTY });
  let counts;
  try {
    const text = report ? await readFile(report, "utf8") : result.output;
    counts = count(text, result.code);
  } catch {}
  let crashed = "";
  if (result.timedOut) crashed = `timed out after ${(result.ms / 1000).toFixed(0)} s`;
  else if (!counts) crashed = `no test report (exit code ${result.code})`;
  else if (result.code !== 0 && counts.failed === 0)
    crashed = `exit code ${result.code} with no failing test`;
  else if (counts.passed + counts.failed === 0) crashed = "no tests found";
  const done = outcome(name, { ...counts, crashed, ms: result.ms, log: logPath(log) });
  if (done.failed > 0) done.excerpt = failureExcerpt(result.output);
  return done;
}

/**
 * Runs `runners` (`[name, () => Promise<outcome>]`) one after the other and reports: a line when
 * each starts and one when it ends, the failure excerpt of each that failed, then a table of all
 * and, last, `N passed, N failed` over all of them. A runner that throws counts as crashed.
 * Everything goes through `write` (default: our stdout), without ANSI escapes unless `isTTY`.
 * Resolves with the exit code: 1 if anything failed.
 */
export async function runAll(
  runners,
  {
    write = (text) => process.stdout.write(text),
    isTTY = stdoutIsTTY(),
    started = Date.now(),
  } = {},
) {
  const say = (text = "") => write(`${isTTY ? text : stripAnsi(text)}\n`);
  const width = Math.max(0, ...runners.map(([name]) => name.length));
  const digits = String(runners.length).length;
  const outcomes = [];
  for (const [index, [name, runner]] of runners.entries()) {
    const tag = `[${String(index + 1).padStart(digits)}/${runners.length}]`;
    say(`${tag} ${name} …`);
    const t0 = Date.now();
    let done;
    try {
      done = await runner();
    } catch (error) {
      const excerpt = String(error?.stack ?? error);
      done = outcome(name, {
        crashed: String(error?.message ?? error),
        ms: Date.now() - t0,
        excerpt,
      });
    }
    outcomes.push(done);
    say(`${tag} ${formatOutcome(done)}`);
    if (done.failed > 0) {
      const where = done.log ? ` (all of it: ${done.log})` : "";
      say(`┈┈┈┈ ${name}: output of the failures${where} ┈┈┈┈`);
      say(done.excerpt || "(no output)");
      say(`┈┈┈┈ end of ${name} ┈┈┈┈`);
    }
  }
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  say(`\n━━ summary (${((Date.now() - started) / 1000).toFixed(1)} s) ━━`);
  for (const o of outcomes) say(formatOutcome(o, width));
  const failing = outcomes.filter((o) => o.failed > 0).map((o) => o.name);
  if (failing.length > 0) say(`failed: ${failing.join(", ")} (their failures are printed above)`);
  say(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

/** Counts of vitest's JSON report; a file that failed to load counts as one failed test. */
function vitestCounts(json) {
  const report = JSON.parse(json);
  const loadFailures = report.testResults.filter(
    (file) => file.status === "failed" && !file.assertionResults.some((t) => t.status === "failed"),
  ).length;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + loadFailures,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

/**
 * Counts of a JUnit report's leaf test cases. Deno reports a node:test `describe` as a test and
 * each `it` as a step "describe > it", so a case with steps below it is not counted.
 */
function junitCounts(xml) {
  const cases = [
    ...xml.matchAll(/<testcase\s+name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g),
  ];
  const leaves = cases
    .filter(([, name]) => !cases.some((other) => other[1].startsWith(`${name} &gt; `)))
    .map(([, , body = ""]) =>
      /<(failure|error)\b/.test(body) ? "failed" : /<skipped\b/.test(body) ? "skipped" : "passed",
    );
  const count = (status) => leaves.filter((s) => s === status).length;
  return { passed: count("passed"), failed: count("failed"), skipped: count("skipped") };
}

/** `vitest run` with the given args (e.g. `--project core-browser`), counted from its JSON report. */
export function runVitest(name, args = []) {
  const report = join(tmp, `${name}.json`);
  const reporters = ["--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
  return runCounted(name, bin("vitest"), ["run", ...reporters, ...args], {
    count: vitestCounts,
    report,
    timeoutMs: 900_000,
  });
}

/** The core tests (test/core, node:test + node:assert/strict) under Deno and Bun. */
const coreRunners = {
  deno: (report) => ({
    command: bin("deno"),
    args: ["test", "--no-lock", "--allow-net=127.0.0.1", "--allow-env", `--junit-path=${report}`],
    files: ["test/core/"],
    env: { NO_COLOR: "1" },
  }),
  bun: (report) => ({
    command: bin("bun"),
    args: ["test", "--reporter=junit", `--reporter-outfile=${report}`],
    files: ["./test/core/"],
    env: { NO_COLOR: "1" },
  }),
};

/** Runs the core tests under `runtime` ("deno" or "bun") against the test server at `serverUrl`. */
export function runCore(runtime, serverUrl, files) {
  const report = join(tmp, `${runtime}-junit.xml`);
  const { command, args, env, ...defaults } = coreRunners[runtime](report);
  return runCounted(runtime, command, [...args, ...(files ?? defaults.files)], {
    count: junitCounts,
    report,
    env: { ...env, RELAY_TEST_SERVER: serverUrl },
    timeoutMs: 300_000,
  });
}

/** Starts the shared test server (test/support/server.mjs) in this process. */
export async function startServer() {
  const { startTestServer } = await import("../test/support/server.mjs");
  return startTestServer();
}

/**
 * `node scripts/run-<runtime>.mjs [test files...]`: own test server, then reported as `npm test`
 * reports a runner (full output in `.tmp/<runtime>.log`, failures printed), and its exit code.
 */
export async function runCoreCli(runtime) {
  const { positionals } = parseArgs({ allowPositionals: true });
  const server = await startServer();
  const files = positionals.length ? positionals : undefined;
  const code = await runAll([[runtime, () => runCore(runtime, server.url, files)]]);
  await server.close();
  process.exit(code);
}

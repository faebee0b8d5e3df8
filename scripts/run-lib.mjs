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

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC.
export const stripAnsi = (text) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/**
 * Runs a command asynchronously, streaming its output to ours (unless `quiet`) and to
 * `.tmp/<log>`. Kills the whole process group after `timeoutMs`. Resolves with
 * `{ code, output, timedOut, ms }`; `code` is null if it died from a signal.
 */
export function run(
  command,
  args,
  { env = {}, log, timeoutMs = 600_000, quiet = false, cwd = root } = {},
) {
  mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  const file = log ? createWriteStream(join(tmp, log)) : undefined;
  return new Promise((done) => {
    let output = "";
    let timedOut = false;
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // own process group, so a timeout can kill grandchildren too
    });
    const onData = (stream) => (chunk) => {
      output += chunk;
      file?.write(chunk);
      if (!quiet) stream.write(chunk);
    };
    child.stdout.on("data", onData(process.stdout));
    child.stderr.on("data", onData(process.stderr));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeoutMs);
    const finish = (code, error) => {
      clearTimeout(timer);
      if (error) output += `\n${error.message}\n`;
      file?.end();
      done({ code, output, timedOut, ms: Date.now() - started });
    };
    child.on("error", (error) => finish(null, error));
    child.on("close", (code) => finish(code));
  });
}

/**
 * A runner's outcome. `crashed` means the runner itself failed (exit code without failing
 * tests, timeout, no report): it counts as one more failure.
 */
export function outcome(name, { passed = 0, failed = 0, skipped = 0, crashed = "", ms = 0 }) {
  return { name, passed, failed: failed + (crashed ? 1 : 0), skipped, crashed, ms };
}

export function formatOutcome(o) {
  const skipped = o.skipped ? `, ${o.skipped} skipped` : "";
  const crashed = o.crashed ? ` (crashed: ${o.crashed})` : "";
  return `${o.name}: ${o.passed} passed, ${o.failed} failed${skipped}${crashed} in ${(o.ms / 1000).toFixed(1)} s`;
}

/**
 * Runs one suite and counts it: `count(text)` gets the report file's text (with `report`) or
 * the output without ANSI escapes, plus the exit code, and returns `{ passed, failed, skipped }`.
 */
export async function runCounted(name, command, args, { count, report, env, timeoutMs }) {
  if (report) await rm(report, { force: true });
  const result = await run(command, args, { env, log: `${name}.log`, timeoutMs });
  let counts;
  try {
    const text = report ? await readFile(report, "utf8") : stripAnsi(result.output);
    counts = count(text, result.code);
  } catch {}
  const see = `see .tmp/${name}.log`;
  let crashed = "";
  if (result.timedOut) crashed = "timed out";
  else if (!counts) crashed = `no test report (exit code ${result.code}, ${see})`;
  else if (result.code !== 0 && counts.failed === 0)
    crashed = `exit code ${result.code} with no failing test (${see})`;
  else if (counts.passed + counts.failed === 0) crashed = "no tests found";
  return outcome(name, { ...counts, crashed, ms: result.ms });
}

/** Counts of vitest's JSON report; a file that failed to load counts as one failed test. */
export function vitestCounts(json) {
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
export function junitCounts(xml) {
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
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
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

/** `node scripts/run-<runtime>.mjs [test files...]`: own test server, counts, exit code. */
export async function runCoreCli(runtime) {
  const { positionals } = parseArgs({ allowPositionals: true });
  const server = await startServer();
  const result = await runCore(runtime, server.url, positionals.length ? positionals : undefined);
  await server.close();
  console.log(formatOutcome(result));
  console.log(`${result.passed} passed, ${result.failed} failed`);
  process.exit(result.failed > 0 ? 1 : 0);
}

// Shared plumbing of the test runner scripts (scripts/test.mjs, scripts/run-*.mjs): the repo
// root, an async child-process runner (never spawnSync: the same process hosts the test server
// the children talk to), counts, and the shared test server.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const tmp = join(root, ".tmp");
export const bin = (name) => join(root, "node_modules", ".bin", name);

/** True when `metaUrl` is the script node was started with. */
export function isMain(metaUrl) {
  return Boolean(process.argv[1]) && fileURLToPath(metaUrl) === resolve(process.argv[1]);
}

export function stripAnsi(text) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC.
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

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
 * tests, timeout, unparsable output): it counts as one more failure.
 */
export function outcome(name, { passed = 0, failed = 0, skipped = 0, crashed = "", ms = 0 }) {
  return { name, passed, failed: failed + (crashed ? 1 : 0), skipped, crashed, ms };
}

export function formatOutcome(o) {
  const skipped = o.skipped ? `, ${o.skipped} skipped` : "";
  const crashed = o.crashed ? ` (crashed: ${o.crashed})` : "";
  return `${o.name}: ${o.passed} passed, ${o.failed} failed${skipped}${crashed} in ${(o.ms / 1000).toFixed(1)} s`;
}

/** Starts the shared test server (test/support/server.mjs) in this process. */
export async function startServer() {
  const { startTestServer } = await import("../test/support/server.mjs");
  return startTestServer();
}

/** For a runner script run on its own: start a server, run, print, exit non-zero on failure. */
export async function runStandalone(runner) {
  const server = await startServer();
  let result;
  try {
    result = await runner({ serverUrl: server.url });
  } finally {
    await server.close();
  }
  console.log(formatOutcome(result));
  console.log(`${result.passed} passed, ${result.failed} failed`);
  process.exit(result.failed > 0 ? 1 : 0);
}

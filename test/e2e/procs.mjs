// Child processes of the e2e run: each one is started in its own process group so that a stop
// (or a SIGKILL of "the relay") reaches the grandchildren too (wrangler → workerd, esbuild).
// Every group is recorded by PID and killed on exit, even when the run fails or is interrupted.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { killGroup } from "../support/relay-process.mjs";

/** @type {Map<number, string>} process-group leader PID → label */
const running = new Map();

/** Kills every group still recorded (synchronous: safe in an `exit` handler). */
export function killAll(signal = "SIGKILL") {
  for (const pid of running.keys()) killGroup(pid, signal);
  running.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => killAll());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Records a process group started elsewhere (the relay, by test/support/relay-process.mjs) so
 * that `killAll` and the exit hook reach it; it is forgotten once `exited` settles.
 * @param {string} label
 * @param {number} pid
 * @param {Promise<unknown>} exited
 */
export function trackGroup(label, pid, exited) {
  hookExit();
  running.set(pid, label);
  exited.then(() => running.delete(pid));
}

/**
 * Starts `command` in a new process group, stdout and stderr appended to `logFile`.
 * @returns {{ pid: number, label: string, exited: Promise<{code: number|null, signal: string|null}>,
 *   stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void> }}
 */
export function startProcess(label, command, args, { logFile, env, cwd } = {}) {
  hookExit();
  const log = logFile ? createWriteStream(logFile, { flags: "a" }) : null;
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", log ? "pipe" : "ignore", log ? "pipe" : "ignore"],
  });
  if (log) {
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label}: could not start ${command}`);
  running.set(pid, label);
  const exited = new Promise((done) => {
    child.once("exit", (code, signal) => {
      running.delete(pid);
      // The leader is gone; anything left in its group (workerd) must go too.
      killGroup(pid, "SIGKILL");
      done({ code, signal });
    });
  });
  const stop = async (signal = "SIGTERM", graceMs = 5000) => {
    if (!running.has(pid)) return exited.then(() => undefined);
    killGroup(pid, signal);
    const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { pid, label, exited, stop };
}

/** Runs a command to completion (bounded by `timeoutMs`); resolves with its exit code and output. */
export function run(command, args, { timeoutMs = 60_000, env } = {}) {
  hookExit();
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pid = child.pid;
    if (pid !== undefined) running.set(pid, command);
    const out = [];
    const err = [];
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => err.push(c));
    const timer = setTimeout(() => killGroup(pid, "SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(pid);
      done({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/** A free TCP port on 127.0.0.1 (bound and released; distinct from the ones in `taken`). */
export async function freePort(taken = new Set()) {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise((done, fail) => {
      const server = createServer();
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address();
        server.close(() => done(port));
      });
    });
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error("no free port found");
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(what, check, { timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`,
  );
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

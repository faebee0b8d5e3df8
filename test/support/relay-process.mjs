// The relay as a process for tests: `wrangler dev` (the runtime `npm start` uses) on 127.0.0.1,
// in its own process group (so a stop reaches workerd too), with local persistence in a directory
// of the caller's, ready once `GET /healthz` answers 200. Callers keep their own tracking and
// cleanup of the returned PID (e2e's procs.mjs, the browser harness, the examples' tests).
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where wrangler.toml is). */
export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const wrangler = join(repoRoot, "node_modules", ".bin", "wrangler");

/**
 * Sends `signal` to the process group led by `pid`; false when there is no such group.
 * @param {number} pid
 * @param {NodeJS.Signals | 0} signal
 * @returns {boolean}
 * @example
 * killGroup(relay.pid, "SIGKILL");
 */
export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * A free TCP port on 127.0.0.1 (bound, then released).
 * @returns {Promise<number>}
 * @example
 * const port = await freePort();
 */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/**
 * The `wrangler dev` arguments for a relay on 127.0.0.1.
 * @param {{ port: number, inspectorPort: number, persistDir?: string,
 *   vars: Record<string, string>, extraArgs?: string[] }} options
 * @returns {string[]}
 * @example
 * relayArgs({ port: 8787, inspectorPort: 9229, vars: { RELAY_ADMIN_TOKEN: "t" } });
 */
export function relayArgs({ port, inspectorPort, persistDir, vars, extraArgs = [] }) {
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port)];
  args.push("--inspector-port", String(inspectorPort));
  if (persistDir) args.push("--persist-to", persistDir);
  args.push("--show-interactive-dev-session=false", ...extraArgs);
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  return args;
}

/**
 * Starts `wrangler dev` in a new process group and waits until `GET /healthz` answers 200.
 * Output goes to `logFile` (appended) when given, else it is kept and shown in a start error.
 * `onSpawn(pid, exited)` runs right after the spawn, before the wait, so a caller can record the group
 * for its own cleanup. When the leader exits, whatever is left in its group (workerd) is killed.
 * If the relay does not come up, it is stopped and the error names why.
 * @param {{ vars: Record<string, string>, persistDir?: string, logFile?: string, port?: number,
 *   inspectorPort?: number, timeoutMs?: number, intervalMs?: number, extraArgs?: string[],
 *   onSpawn?: (pid: number, exited: Promise<unknown>) => void }} options
 * @returns {Promise<{ url: string, port: number, pid: number,
 *   child: import("node:child_process").ChildProcess,
 *   exited: Promise<{ code: number | null, signal: string | null }>,
 *   stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void> }>}
 * @example
 * const relay = await startRelay({ vars: { RELAY_ADMIN_TOKEN: "t" }, persistDir: "/tmp/relay" });
 * await fetch(`${relay.url}/healthz`);
 * await relay.stop();
 */
export async function startRelay({
  vars,
  persistDir,
  logFile,
  port,
  inspectorPort,
  timeoutMs = 90_000,
  intervalMs = 200,
  extraArgs = [],
  onSpawn,
}) {
  const relayPort = port ?? (await freePort());
  const args = relayArgs({
    port: relayPort,
    inspectorPort: inspectorPort ?? (await freePort()),
    persistDir,
    vars,
    extraArgs,
  });
  const log = logFile ? createWriteStream(logFile, { flags: "a" }) : null;
  const child = spawn(wrangler, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
    },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  for (const stream of [child.stdout, child.stderr]) {
    if (log) stream.pipe(log, { end: false });
    else stream.on("data", (chunk) => (output += chunk));
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start wrangler dev");
  let exitedWith = null;
  const exited = new Promise((done) =>
    child.once("exit", (code, signal) => {
      exitedWith = { code, signal };
      killGroup(pid, "SIGKILL"); // workerd children of a dead leader
      done(exitedWith);
    }),
  );
  onSpawn?.(pid, exited);
  const stop = async (signal = "SIGTERM", graceMs = 5000) => {
    if (exitedWith) return;
    killGroup(pid, signal);
    const force = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(force);
  };
  const url = `http://127.0.0.1:${relayPort}`;
  const where = () => (log ? `see ${logFile}` : `output:\n${output}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitedWith)
      throw new Error(`wrangler dev exited ${JSON.stringify(exitedWith)}; ${where()}`);
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })
      .then((response) => response.status === 200)
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop("SIGKILL", 0);
      throw new Error(`the relay at ${url} did not answer /healthz in ${timeoutMs} ms; ${where()}`);
    }
    await new Promise((wake) => setTimeout(wake, intervalMs));
  }
  return { url, port: relayPort, pid, child, exited, stop };
}

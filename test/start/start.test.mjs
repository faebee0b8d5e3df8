// `npm start` as a newcomer runs it: chosen ports (flags), the README's fixture posted with the
// dev token reaches the demo receiver, the printed console link and CORS follow the console port,
// and stopping the npm process (SIGTERM, or SIGKILL so that nothing is forwarded) leaves no
// child behind: no node, no wrangler, no workerd (checked with ps).
// Run: node --test --test-reporter=spec test/start/
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pushFixture } from "../fixtures/paths.mjs";
import { freePort, killGroup, repoRoot } from "../support/relay-process.mjs";

const fixture = pushFixture;
const readyTimeoutMs = 120_000;
const stopTimeoutMs = 8_000;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Every running npm start of this file, for cleanup when a test fails. */
const runs = new Set();

after(async () => {
  for (const run of runs) await run.cleanup();
});

/** pid → { ppid, stat, comm, args } of every process, from ps. */
function processTable() {
  const out = execFileSync("ps", ["-eo", "pid=,ppid=,stat=,comm=,args="], { encoding: "utf8" });
  const table = new Map();
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) table.set(Number(m[1]), { ppid: Number(m[2]), stat: m[3], comm: m[4], args: m[5] });
  }
  return table;
}

/** The live (not zombie) descendants of `pid`. */
function descendants(pid) {
  const table = processTable();
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, info] of table) {
      if (info.ppid === parent && !info.stat.startsWith("Z")) {
        found.push({ pid: child, ...info });
        queue.push(child);
      }
    }
  }
  return found;
}

/** Those of `pids` still running (zombies count as gone). */
function alive(pids) {
  const table = processTable();
  return pids.filter((pid) => table.has(pid) && !table.get(pid).stat.startsWith("Z"));
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** `npm start -- --port … --receiver-port … --console-port … --persist-to <tmp>`, until ready. */
async function npmStart() {
  const [port, receiverPort, consolePort] = [await freePort(), await freePort(), await freePort()];
  const state = await mkdtemp(join(tmpdir(), "relay-start-"));
  const env = { ...process.env, CI: "true" };
  for (const name of [
    "RELAY_PORT",
    "RELAY_RECEIVER_PORT",
    "RELAY_CONSOLE_PORT",
    "RELAY_STATE_DIR",
    "RELAY_ENDPOINTS",
    "RELAY_INGEST_TOKENS",
    "RELAY_ADMIN_TOKEN",
    "RELAY_CORS_ORIGINS",
    "DEMO_WEBHOOK_SECRET",
  ]) {
    delete env[name];
  }
  const args = ["start", "--", "--port", String(port), "--receiver-port", String(receiverPort)];
  args.push("--console-port", String(consolePort), "--persist-to", state);
  // Its own process group only so that a failing test can still clean up everything.
  const npm = spawn("npm", args, {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  npm.stdout.on("data", (chunk) => (output += chunk));
  npm.stderr.on("data", (chunk) => (output += chunk));
  let exited = null;
  npm.once("exit", (code, signal) => (exited = { code, signal }));
  const run = {
    npm,
    port,
    receiverPort,
    consolePort,
    relay: `http://127.0.0.1:${port}`,
    console: `http://127.0.0.1:${consolePort}`,
    output: () => output,
    exited: () => exited,
    tree: [],
    async cleanup() {
      for (const { pid } of run.tree) killGroup(pid, "SIGKILL");
      for (const { pid } of run.tree) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      killGroup(npm.pid, "SIGKILL");
      await rm(state, { recursive: true, force: true });
      runs.delete(run);
    },
  };
  runs.add(run);
  await waitFor(
    "npm start to print that the relay is running",
    () => {
      if (exited) throw new Error(`npm start exited ${JSON.stringify(exited)}:\n${output}`);
      return output.includes("registry-relay is running");
    },
    readyTimeoutMs,
  ).catch((error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  run.tree = descendants(npm.pid);
  return run;
}

/** Asserts that every process started under npm is gone within `stopTimeoutMs`. */
async function assertAllGone(run) {
  const pids = run.tree.map((p) => p.pid);
  await waitFor(
    "every child of npm start to exit",
    () => alive(pids).length === 0 && run.exited() !== null,
    stopTimeoutMs,
  ).catch((error) => {
    const left = run.tree.filter((p) => alive([p.pid]).length > 0);
    throw new Error(
      `${error.message}; still running:\n${left.map((p) => `${p.pid} ${p.args}`).join("\n")}`,
    );
  });
  const table = processTable();
  const orphans = [...table].filter(
    ([, p]) => !p.stat.startsWith("Z") && p.args.includes(`--port ${run.port}`),
  );
  assert.deepEqual(orphans, [], "no process with the relay's port in its arguments is left");
}

describe("npm start", { timeout: 300_000 }, () => {
  it("serves the chosen ports, delivers the README's fixture, and SIGTERM to npm stops every child", async () => {
    const run = await npmStart();
    const text = run.output();
    const comms = run.tree.map((p) => p.comm);
    assert.ok(comms.includes("workerd"), `wrangler's workerd runs under npm: ${comms.join(", ")}`);
    // The banner uses the chosen ports.
    assert.match(text, new RegExp(`curl -sS ${run.relay}/v1/events`));
    assert.match(text, new RegExp(`http://127\\.0\\.0\\.1:${run.receiverPort}/events`));
    assert.ok(
      text.includes(`${run.console}/#relay=${run.relay}&token=dev-admin-token`),
      "the console link carries the relay and the dev admin token",
    );

    const res = await fetch(`${run.relay}/v1/events`, {
      method: "POST",
      headers: {
        authorization: "Bearer dev-ingest-token",
        "content-type": "application/vnd.docker.distribution.events.v1+json",
      },
      body: readFileSync(fixture),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.deepEqual(body.endpoints, [{ name: "demo", queued: 1, ignored: 0, duplicates: 0 }]);
    await waitFor(
      "the demo receiver to print the push",
      () => /\[demo-receiver [^\]]+\] push harness\/alpha:v1 .*signature: valid/.test(run.output()),
      15_000,
    );

    // The console is served on its port, and the relay allows exactly that origin.
    const page = await fetch(`${run.console}/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(page.status, 200);
    await page.arrayBuffer();
    const preflight = await fetch(`${run.relay}/v1/endpoints`, {
      method: "OPTIONS",
      headers: {
        origin: run.console,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), run.console);

    process.kill(run.npm.pid, "SIGTERM"); // the npm process only, not its group
    await assertAllGone(run);
    await run.cleanup();
  });

  it("stops every child when npm dies without forwarding a signal (SIGKILL)", async () => {
    const run = await npmStart();
    process.kill(run.npm.pid, "SIGKILL");
    await assertAllGone(run);
    await run.cleanup();
  });

  it("refuses a bad port naming the flag", () => {
    let failure;
    try {
      execFileSync(process.execPath, ["scripts/start.mjs", "--receiver-port", "http"], {
        cwd: repoRoot,
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (error) {
      failure = error;
    }
    assert.equal(failure?.status, 2);
    assert.match(
      failure.stderr,
      /--receiver-port must be a TCP port number from 1 to 65535, got "http"/,
    );
  });
});

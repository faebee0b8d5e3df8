// `npm test`: every test runner, and the first command that works on a fresh clone.
// 1. `npm ci` if node_modules is missing or does not match package-lock.json.
// 2. On Debian as root: apt-get install what the tests need and is missing (chromium for the
//    browser run; docker-registry and skopeo for the e2e suite).
// 3. vitest (all projects), then the core tests under Deno, Bun and Chromium against one shared
//    test server, then the extra suites below.
// 4. One line per runner, then a last line `N passed, N failed` over all of them. Exits 1 if
//    anything failed; a runner that crashed counts as one failed test.
// Only node built-ins are imported up front: node_modules may not exist yet.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Static checks, run before the test runners. Each suite is `{ name, command, args, env?, timeoutMs? }`.
 * Counts come from the last `N passed, N failed` line the suite prints, else from a
 * `node --test` summary (`ℹ pass N` / `ℹ fail N`, or TAP `# pass N`), else from its exit code
 * (one passed or one failed).
 */
export const checkSuites = [
  { name: "typecheck", command: "npm", args: ["run", "--silent", "typecheck"] },
  { name: "lint", command: "npm", args: ["run", "--silent", "lint"] },
];

/** Suites run after the core runners (see {@link checkSuites} for the format). */
export const extraSuites = [
  { name: "examples", command: "npm", args: ["run", "--silent", "test:examples"] },
  { name: "browser-admin", command: "npm", args: ["run", "--silent", "test:browser-admin"] },
  { name: "e2e", command: "npm", args: ["run", "--silent", "test:e2e"] },
  { name: "load", command: "npm", args: ["run", "--silent", "test:load"] },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function exec(command, args, env = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, ...env },
    });
    child.on("error", (error) => {
      console.error(`${command}: ${error.message}`);
      done(1);
    });
    child.on("close", (code) => done(code ?? 1));
  });
}

/** Why node_modules must be (re)installed, or "" if it matches package-lock.json. */
function staleReason() {
  const hiddenPath = join(root, "node_modules/.package-lock.json");
  if (!existsSync(hiddenPath)) return "node_modules is missing";
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")).packages ?? {};
  const installed = JSON.parse(readFileSync(hiddenPath, "utf8")).packages ?? {};
  for (const [path, meta] of Object.entries(lock)) {
    if (path === "" || meta.link) continue;
    const have = installed[path];
    // Optional packages for other platforms (e.g. @esbuild/darwin-arm64) are never installed.
    if (!have) {
      if (meta.optional || meta.devOptional) continue;
      return `${path} is not installed`;
    }
    if (have.version !== meta.version)
      return `${path} is ${have.version}, lock says ${meta.version}`;
  }
  return "";
}

function onPath(name) {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .some((dir) => dir && existsSync(join(dir, name)));
}

async function ensureSystemPackages() {
  const missing = [];
  if (!existsSync(chromiumPath)) missing.push("chromium");
  if (!onPath("docker-registry")) missing.push("docker-registry");
  if (!onPath("skopeo")) missing.push("skopeo");
  if (missing.length === 0) return;
  const debianRoot = existsSync("/etc/debian_version") && process.getuid?.() === 0;
  if (!debianRoot) {
    console.warn(`test: missing ${missing.join(", ")} (not root on Debian: not installing them)`);
    return;
  }
  console.log(`test: apt-get install ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const ok =
    (await exec("apt-get", ["update", "-q"], env)) === 0 &&
    (await exec("apt-get", ["install", "-y", "-q", ...missing], env)) === 0;
  if (!ok) console.warn("test: apt-get failed; the runners that need these will fail");
}

async function runExtraSuite(suite, lib) {
  const result = await lib.run(suite.command, suite.args ?? [], {
    env: suite.env ?? {},
    log: `${suite.name}.log`,
    timeoutMs: suite.timeoutMs ?? 900_000,
  });
  const text = lib.stripAnsi(result.output);
  const last = [...text.matchAll(/^(\d+) passed, (\d+) failed$/gm)].at(-1);
  const nodeTest = (word) => [...text.matchAll(new RegExp(`^[ℹ#] ${word} (\\d+)$`, "gm"))].at(-1);
  const counts = last
    ? { passed: Number(last[1]), failed: Number(last[2]) }
    : nodeTest("pass") && nodeTest("fail")
      ? { passed: Number(nodeTest("pass")[1]), failed: Number(nodeTest("fail")[1]) }
      : undefined;
  if (counts) {
    const crashed =
      result.code !== 0 && counts.failed === 0
        ? `exit code ${result.code} with no failed test`
        : "";
    return lib.outcome(suite.name, { ...counts, crashed, ms: result.ms });
  }
  return result.code === 0
    ? lib.outcome(suite.name, { passed: 1, ms: result.ms })
    : lib.outcome(suite.name, { failed: 1, ms: result.ms });
}

async function main() {
  const started = Date.now();
  const stale = staleReason();
  if (stale) {
    console.log(`test: ${stale}: npm ci`);
    if ((await exec("npm", ["ci"])) !== 0) {
      console.log("npm ci failed");
      console.log("0 passed, 1 failed");
      return 1;
    }
  }
  await ensureSystemPackages();

  const lib = await import("./run-lib.mjs");
  const { runVitest } = await import("./run-vitest.mjs");
  const { runDeno } = await import("./run-deno.mjs");
  const { runBun } = await import("./run-bun.mjs");
  const { runBrowser } = await import("./run-browser.mjs");

  const server = await lib.startServer();
  const runners = [
    ...checkSuites.map((suite) => [suite.name, () => runExtraSuite(suite, lib)]),
    ["vitest", () => runVitest()],
    ["deno", () => runDeno({ serverUrl: server.url })],
    ["bun", () => runBun({ serverUrl: server.url })],
    ["chromium", () => runBrowser({ serverUrl: server.url })],
    ...extraSuites.map((suite) => [suite.name, () => runExtraSuite(suite, lib)]),
  ];
  const outcomes = [];
  for (const [name, runner] of runners) {
    console.log(`\n━━ ${name} ━━`);
    const t0 = Date.now();
    try {
      outcomes.push(await runner());
    } catch (error) {
      outcomes.push(lib.outcome(name, { crashed: error.message, ms: Date.now() - t0 }));
    }
    console.log(lib.formatOutcome(outcomes.at(-1)));
  }
  await server.close();

  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(`\n━━ summary (${((Date.now() - started) / 1000).toFixed(1)} s) ━━`);
  for (const o of outcomes) console.log(lib.formatOutcome(o));
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exit(await main());

// `npm test`: every test runner, and the first command that works on a fresh clone.
// 1. `npm ci` if node_modules is missing or does not match package-lock.json.
// 2. On Debian as root: apt-get install what the tests need and is missing (chromium for the
//    browser runs; docker-registry and skopeo for the e2e suite).
// 3. vitest (every project but core-browser), the core tests under Deno and Bun against one
//    shared test server, vitest's core-browser project (Chromium), then the extra suites below.
// 4. One line per runner, then a last line `N passed, N failed` over all of them. Exits 1 if
//    anything failed; a runner that crashed counts as one failed test.
// run-lib.mjs imports only node built-ins: node_modules may not exist yet.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import {
  formatOutcome,
  outcome,
  root,
  run,
  runCore,
  runCounted,
  runVitest,
  startServer,
} from "./run-lib.mjs";

/**
 * Static checks, run before the test runners: `[name, command, args]`. Counts come from the last
 * `N passed, N failed` line a suite prints, else from a `node --test` summary (`ℹ pass N` /
 * `ℹ fail N`, or TAP `# pass N`), else from its exit code (one passed or one failed).
 */
export const checkSuites = [
  ["typecheck", "npm", ["run", "--silent", "typecheck"]],
  ["lint", "npm", ["run", "--silent", "lint"]],
];

/** Suites run after the core runners (see {@link checkSuites} for the format). */
export const extraSuites = [
  ["examples", "npm", ["run", "--silent", "test:examples"]],
  ["browser-admin", "npm", ["run", "--silent", "test:browser-admin"]],
  ["e2e", "npm", ["run", "--silent", "test:e2e"]],
  ["load", "npm", ["run", "--silent", "test:load"]],
  ["start", "npm", ["run", "--silent", "test:start"]],
  ["package", "npm", ["run", "--silent", "test:package"]],
];

function summaryCounts(text, code) {
  const last = (pattern) => [...text.matchAll(pattern)].at(-1);
  const summary = last(/^(\d+) passed, (\d+) failed$/gm);
  if (summary) return { passed: Number(summary[1]), failed: Number(summary[2]) };
  const [pass, fail] = [last(/^[ℹ#] pass (\d+)$/gm), last(/^[ℹ#] fail (\d+)$/gm)];
  if (pass && fail) return { passed: Number(pass[1]), failed: Number(fail[1]) };
  return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

const suite = ([name, command, args]) => [
  name,
  () => runCounted(name, command, args, { count: summaryCounts, timeoutMs: 900_000 }),
];

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

const onPath = (name) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, name)));

async function ensureSystemPackages() {
  const missing = [];
  if (!existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium")) missing.push("chromium");
  if (!onPath("docker-registry")) missing.push("docker-registry");
  if (!onPath("skopeo")) missing.push("skopeo");
  if (missing.length === 0) return;
  if (!existsSync("/etc/debian_version") || process.getuid?.() !== 0) {
    console.warn(`test: missing ${missing.join(", ")} (not root on Debian: not installing them)`);
    return;
  }
  console.log(`test: apt-get install ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const ok =
    (await run("apt-get", ["update", "-q"], { env })).code === 0 &&
    (await run("apt-get", ["install", "-y", "-q", ...missing], { env })).code === 0;
  if (!ok) console.warn("test: apt-get failed; the runners that need these will fail");
}

async function main() {
  const started = Date.now();
  const stale = staleReason();
  if (stale) {
    console.log(`test: ${stale}: npm ci`);
    if ((await run("npm", ["ci"], { timeoutMs: 1_800_000 })).code !== 0) {
      console.log("npm ci failed");
      console.log("0 passed, 1 failed");
      return 1;
    }
  }
  await ensureSystemPackages();

  const server = await startServer();
  const runners = [
    ...checkSuites.map(suite),
    ["vitest", () => runVitest("vitest", ["--project", "!core-browser"])],
    ["deno", () => runCore("deno", server.url)],
    ["bun", () => runCore("bun", server.url)],
    ["chromium", () => runVitest("chromium", ["--project", "core-browser"])],
    ...extraSuites.map(suite),
  ];
  const outcomes = [];
  for (const [name, runner] of runners) {
    console.log(`\n━━ ${name} ━━`);
    const t0 = Date.now();
    try {
      outcomes.push(await runner());
    } catch (error) {
      outcomes.push(outcome(name, { crashed: error.message, ms: Date.now() - t0 }));
    }
    console.log(formatOutcome(outcomes.at(-1)));
  }
  await server.close();

  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(`\n━━ summary (${((Date.now() - started) / 1000).toFixed(1)} s) ━━`);
  for (const o of outcomes) console.log(formatOutcome(o));
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exit(await main());

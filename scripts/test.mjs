// `npm test`: every test runner, and the first command that works on a fresh clone.
// 1. `npm ci` if node_modules is missing or does not match package-lock.json.
// 2. On Debian as root: apt-get install what the tests need and is missing (chromium for the
//    browser runs; docker-registry and skopeo for the e2e suite).
// 3. vitest (every project but core-browser), the core tests under Deno and Bun against one
//    shared test server, vitest's core-browser project (Chromium), then the extra suites below.
// 4. Each runner's whole output goes to .tmp/<runner>.log, not to ours: we print a line when it
//    starts and one when it ends, and when it fails, its failures (the failing tests and their
//    errors). Then a table of the runners and a last line `N passed, N failed` over all of them.
//    Exits 1 if anything failed; a runner that crashed counts as one failed test. No colours
//    when our output is not a terminal.
// `--only <runner>[,<runner>...]` runs just those (e.g. `npm test -- --only deno,bun`).
// run-lib.mjs imports only node built-ins: node_modules may not exist yet.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import {
  failureExcerpt,
  logPath,
  root,
  run,
  runAll,
  runCore,
  runCounted,
  runVitest,
  startServer,
  summaryCounts,
} from "./run-lib.mjs";

/**
 * Static checks, run before the test runners: `[name, command, args]`. Counted by
 * `summaryCounts` (run-lib.mjs): the last `N passed, N failed` line a suite prints, else a
 * `node --test` summary, else its exit code (one passed or one failed).
 */
const checkSuites = [
  ["typecheck", "npm", ["run", "--silent", "typecheck"]],
  ["lint", "npm", ["run", "--silent", "lint"]],
];

/** Suites run after the core runners (see {@link checkSuites} for the format). */
const extraSuites = [
  ["examples", "npm", ["run", "--silent", "test:examples"]],
  ["browser-admin", "npm", ["run", "--silent", "test:browser-admin"]],
  ["e2e", "npm", ["run", "--silent", "test:e2e"]],
  ["load", "npm", ["run", "--silent", "test:load"]],
  ["start", "npm", ["run", "--silent", "test:start"]],
  ["package", "npm", ["run", "--silent", "test:package"]],
  ["size", "npm", ["run", "--silent", "size"]],
];

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

/** A setup step: its output goes to `.tmp/<log>`, and is printed only if it fails. */
async function setupStep(what, command, args, { log, ...options }) {
  const result = await run(command, args, { ...options, log, quiet: true });
  if (result.code === 0) return true;
  console.log(`test: ${what} failed (exit code ${result.code}, log: ${logPath(log)}):`);
  console.log(failureExcerpt(result.output, { maxLines: 60 }));
  return false;
}

async function ensureSystemPackages() {
  const missing = [];
  if (!existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium")) missing.push("chromium");
  if (!onPath("docker-registry")) missing.push("docker-registry");
  if (!onPath("skopeo")) missing.push("skopeo");
  if (missing.length === 0) return;
  if (!existsSync("/etc/debian_version") || process.getuid?.() !== 0) {
    console.log(`test: missing ${missing.join(", ")} (not root on Debian: not installing them)`);
    return;
  }
  console.log(`test: apt-get install ${missing.join(" ")} (log: ${logPath("apt-get.log")})`);
  const options = { env: { DEBIAN_FRONTEND: "noninteractive" }, log: "apt-get.log" };
  const ok =
    (await setupStep("apt-get update", "apt-get", ["update", "-q"], options)) &&
    (await setupStep("apt-get install", "apt-get", ["install", "-y", "-q", ...missing], options));
  if (!ok) console.log("test: the runners that need these will fail");
}

/** Every runner, in order; `serverUrl()` starts the shared test server when first called. */
const runners = (serverUrl) => [
  ...checkSuites.map(suite),
  ["vitest", () => runVitest("vitest", ["--project", "!core-browser"])],
  ["deno", async () => runCore("deno", await serverUrl())],
  ["bun", async () => runCore("bun", await serverUrl())],
  ["chromium", () => runVitest("chromium", ["--project", "core-browser"])],
  ...extraSuites.map(suite),
];

const usage =
  () => `Usage: node scripts/test.mjs [--only <runner>[,<runner>...]]   (npm test -- --only ...)

Installs what is missing, then runs the test runners one after the other (all of them, or only
those named), each with its whole output in .tmp/<runner>.log. Prints a line as each starts and
ends, the failures of each that fails, a table, and last \`N passed, N failed\`.
Runners: ${runners(() => "")
    .map(([name]) => name)
    .join(", ")}`;

async function main() {
  let options;
  try {
    ({ values: options } = parseArgs({
      options: { only: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    console.error(`${error.message}\n\n${usage()}`);
    return 2;
  }
  if (options.help) {
    console.log(usage());
    return 0;
  }
  let server;
  const serverUrl = async () => {
    server ??= await startServer();
    return server.url;
  };
  let selected = runners(serverUrl);
  if (options.only) {
    const names = options.only.flatMap((list) => list.split(",")).map((name) => name.trim());
    const unknown = names.filter((name) => !selected.some(([known]) => known === name));
    if (unknown.length > 0) {
      console.error(`test: no runner named ${unknown.join(", ")}\n\n${usage()}`);
      return 2;
    }
    selected = selected.filter(([name]) => names.includes(name));
  }

  const started = Date.now();
  const stale = staleReason();
  if (stale) {
    console.log(`test: ${stale}: npm ci (log: ${logPath("npm-ci.log")})`);
    const ok = await setupStep("npm ci", "npm", ["ci"], {
      log: "npm-ci.log",
      timeoutMs: 1_800_000,
    });
    if (!ok) {
      console.log("0 passed, 1 failed");
      return 1;
    }
  }
  await ensureSystemPackages();

  console.log(`test: ${selected.length} runner(s), the whole output of each in .tmp/<runner>.log`);
  const code = await runAll(selected, { started });
  await server?.close();
  return code;
}

process.exit(await main());

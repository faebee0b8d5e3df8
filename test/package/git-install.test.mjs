// Installing the package from a git URL, as `npm install git+https://…/registry-relay.git` does:
// a git repository holding the working tree (HEAD plus uncommitted changes, as `npm pack` in
// package.test.mjs sees it) in the OS temp dir, a consumer that installs it by `git+file://` URL
// and allows its build script in "allowScripts", then node imports `registry-relay` and parses a
// captured envelope. dist/ is not in git: npm must build it. For a git dependency npm installs
// its dependencies and devDependencies, then runs `prepare` (not `prepack`: npm/pacote#257).
// The install takes about 30 s to a minute with a warm npm cache (`npm ci` ran before).
// Run: node --test --test-reporter=spec test/package/
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { pushFixture } from "../fixtures/paths.mjs";
import { repoRoot } from "../support/relay-process.mjs";
import { sh } from "./sh.mjs";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
const fixture = pushFixture;
/** Above what the install takes on this project's 2-core machine under load (about 1 minute). */
const installTimeoutMs = 240_000;

const git = (args, cwd) =>
  sh("git", ["-c", "user.name=package test", "-c", "user.email=test@localhost", ...args], {
    cwd,
    env: { GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" },
  });

const runMjs = `import { readFileSync } from "node:fs";
import { parseEnvelope } from "registry-relay";

const envelope = parseEnvelope(readFileSync(${JSON.stringify(fixture)}));
console.log(JSON.stringify({ events: envelope.events.length, action: envelope.events[0]?.action }));
`;

describe("installed from a git URL", { timeout: installTimeoutMs + 60_000 }, () => {
  let dir;
  let consumer;
  let url;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-relay-git-"));
    // The working tree's files, tracked or not, but not the ignored ones (node_modules, dist).
    const repo = join(dir, "registry-relay");
    await mkdir(repo);
    const { stdout } = await git(
      ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
      repoRoot,
    );
    const files = stdout
      .split("\0")
      .filter((file) => file && file.split("/")[0] !== "node_modules")
      .filter((file) => existsSync(join(repoRoot, file)));
    for (const file of files) await cp(join(repoRoot, file), join(repo, file));
    await git(["init", "--quiet", "--initial-branch=main"], repo);
    await git(["add", "--all"], repo);
    await git(["commit", "--quiet", "--no-verify", "--message", "snapshot"], repo);
    url = `git+${pathToFileURL(repo).href}`;

    consumer = join(dir, "consumer");
    await mkdir(consumer);
    // The user's approval of the dependency's build script (npm's "allowScripts" policy).
    const manifest = {
      name: "consumer",
      private: true,
      type: "module",
      allowScripts: { [url]: true },
    };
    await writeFile(join(consumer, "package.json"), JSON.stringify(manifest, null, 2));
    await writeFile(join(consumer, "run.mjs"), runMjs);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("npm builds dist/ on install (its prepare script)", async (t) => {
    const started = performance.now();
    const { stdout, stderr } = await sh(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", url],
      { cwd: consumer, timeout: installTimeoutMs },
    );
    t.diagnostic(`npm install ${url}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const installed = join(consumer, "node_modules", pkg.name);
    assert.ok(existsSync(join(installed, "package.json")), `${pkg.name} is installed`);
    assert.doesNotMatch(`${stdout}${stderr}`, /not yet covered by allowScripts/);
    const missing = Object.values(pkg.exports)
      .flatMap((target) => (typeof target === "string" ? [target] : Object.values(target)))
      .filter((file) => !existsSync(join(installed, file)));
    const prepare = JSON.stringify(pkg.scripts?.prepare ?? null);
    assert.ok(
      missing.length === 0,
      `the git install has no ${missing.join(", ")}: npm runs "prepare" for a git dependency, ` +
        `never "prepack" (npm/pacote#257), and package.json's "prepare" is ${prepare}`,
    );
  });

  it("runs with node: import registry-relay and parse a distribution fixture", async () => {
    const { stdout } = await sh(process.execPath, ["run.mjs"], { cwd: consumer });
    const result = JSON.parse(stdout.trim().split("\n").at(-1));
    assert.ok(result.events >= 1, stdout);
    assert.equal(result.action, "push");
  });
});

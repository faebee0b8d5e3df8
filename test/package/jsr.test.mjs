// jsr.json: the package for Deno users as TypeScript source on JSR. Its exports are package.json's
// (dist/lib/X.js is src/X.ts), its version and license are package.json's, its imports are the
// npm dependencies and peers as npm: specifiers. `deno publish --dry-run` (no upload, jsr.io is
// never asked; the npm registry is, for type checking against valibot and hono) runs on a copy of
// what would be published, so every import resolves through jsr.json alone, and in the
// repository for the list of files it would publish. --no-lock: no deno.lock is written.
// Run: node --test --test-reporter=spec test/package/
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/relay-process.mjs";
import { exec } from "./sh.mjs";

const read = (name) => JSON.parse(readFileSync(join(repoRoot, name), "utf8"));
const pkg = read("package.json");
const jsr = read("jsr.json");
const deno = join(repoRoot, "node_modules/.bin/deno");

/** package.json "exports" as JSR exports: `./dist/lib/X.js` becomes `./src/X.ts`. */
function expectedExports() {
  const mapped = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const file = typeof target === "string" ? target : target.default;
    const built = /^\.\/dist\/lib\/(.+)\.js$/.exec(file);
    if (built) mapped[subpath] = `./src/${built[1]}.ts`;
  }
  return mapped;
}

/** An npm range as Deno's npm: specifiers take it: no `>=`, so `>=4.0.1` becomes `^4.0.1`. */
const denoRange = (range) => range.replace(/^>=\s*(\d+\.\d+\.\d+)$/, "^$1");

/** `deno publish --dry-run` in `cwd`; never uploads. Resolves to `{ code, output }`. */
async function dryRun(cwd, extra = []) {
  const args = ["publish", "--dry-run", "--allow-dirty", "--no-lock", "--no-provenance", ...extra];
  const result = await exec(deno, args, {
    cwd,
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).catch((error) => error);
  if (result.signal) assert.fail(`deno publish --dry-run: ${result.signal}`);
  return { code: result.code ?? 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/**
 * The problems a dry run reports, one line each: `src/event/schema.ts:48:14
 * missing-explicit-type: missing explicit type in the public API`.
 */
function problems(output, root) {
  const found = [];
  const pattern = /^error\[([\w-]+)\]: (.*)\n\s*--> (.*)$/gm;
  for (const [, code, message, where] of output.matchAll(pattern)) {
    found.push(`${where.replace(`${root}/`, "")} ${code}: ${message}`);
  }
  return found;
}

describe("jsr.json", { timeout: 180_000 }, () => {
  let dir;

  before(async () => {
    // What JSR gets: jsr.json's "publish.include" (src/**/*.ts, README.md, LICENSE, jsr.json),
    // without package.json or node_modules beside it.
    dir = await mkdtemp(join(tmpdir(), "registry-relay-jsr-"));
    for (const name of ["jsr.json", "README.md", "LICENSE"]) {
      await cp(join(repoRoot, name), join(dir, name));
    }
    await cp(join(repoRoot, "src"), join(dir, "src"), { recursive: true });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("has package.json's version and license", () => {
    assert.equal(jsr.version, pkg.version);
    assert.equal(jsr.license, pkg.license);
    assert.match(jsr.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  });

  it("exports what package.json exports, as the TypeScript sources", () => {
    const expected = expectedExports();
    assert.ok(Object.keys(expected).includes("."), "package.json exports a main entry");
    assert.deepEqual(jsr.exports, expected);
    for (const file of Object.values(expected)) {
      assert.ok(existsSync(join(repoRoot, file)), `${file} exists`);
    }
  });

  it("imports the npm dependencies and peers as npm: specifiers", () => {
    const wanted = {};
    for (const [name, range] of Object.entries({ ...pkg.peerDependencies, ...pkg.dependencies })) {
      wanted[name] = `npm:${name}@${denoRange(range)}`;
    }
    assert.deepEqual(jsr.imports, wanted);
  });

  it("passes deno publish --dry-run with jsr.json's imports alone (slow types allowed)", async () => {
    const { code, output } = await dryRun(dir, ["--allow-slow-types"]);
    assert.equal(code, 0, output);
    assert.match(output, /Success Dry run complete/, output);
  });

  it("publishes src/**/*.ts, README.md, LICENSE and jsr.json from the repository", async () => {
    const { code, output } = await dryRun(repoRoot, ["--allow-slow-types", "--no-check"]);
    assert.equal(code, 0, output);
    const files = [...output.matchAll(/^\s*file:\/\/(\S+)/gm)].map(([, path]) =>
      path.replace(`${repoRoot}/`, ""),
    );
    for (const name of ["README.md", "LICENSE", "jsr.json", "src/index.ts"]) {
      assert.ok(files.includes(name), `${name} is published:\n${output}`);
    }
    for (const file of Object.values(jsr.exports)) {
      assert.ok(files.includes(file.slice(2)), `${file} is published:\n${output}`);
    }
    const other = files.filter(
      (file) => !/^src\/.+\.ts$|^(README\.md|LICENSE|jsr\.json)$/.test(file),
    );
    assert.deepEqual(other, [], "nothing else is published");
  });

  // The valibot schemas' types are inferred from the schemas, never written a second time (the
  // house rule, src/event/schema.ts): JSR calls those "slow types". Everything else is explicit.
  it("has no slow types outside src/event/schema.ts (deno publish --dry-run)", async () => {
    const { code, output } = await dryRun(dir);
    const found = problems(output, dir);
    const elsewhere = found.filter((problem) => !problem.includes("src/event/schema.ts"));
    assert.deepEqual(elsewhere, [], `deno publish --dry-run reports:\n${found.join("\n")}`);
    // Any other failure (not a slow type) is a failure too.
    if (found.length === 0) assert.equal(code, 0, output);
  });
});

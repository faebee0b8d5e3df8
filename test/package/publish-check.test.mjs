// scripts/publish-check.mjs, npm's `prepublishOnly`: `npm publish` stops until package.json's
// repository, homepage and bugs name one public repository (no address is guessed here).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot } from "../support/relay-process.mjs";

const script = join(repoRoot, "scripts/publish-check.mjs");
const dir = mkdtempSync(join(tmpdir(), "publish-check-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the check on a package.json with these fields: its exit code and output. */
function check(fields, name = "package.json") {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ name: "registry-relay", ...fields }));
  const result = spawnSync(process.execPath, [script, file], { encoding: "utf8" });
  return { code: result.status, output: result.stdout + result.stderr };
}

const home = "https://git.example.org/team/registry-relay";
const complete = {
  repository: { type: "git", url: `git+${home}.git` },
  homepage: `${home}#readme`,
  bugs: { url: `${home}/issues` },
};

describe("publish-check (prepublishOnly)", () => {
  it("is what npm runs before a publish", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    assert.equal(pkg.scripts.prepublishOnly, "node scripts/publish-check.mjs");
  });

  it("stops a publish that names no repository, saying which fields and how to set them", () => {
    const { code, output } = check({});
    assert.equal(code, 1);
    assert.match(output, /repository\.url, homepage, bugs\.url are not an https address/);
    assert.match(output, /npm pkg set repository\.type=git repository\.url=/);
  });

  it("passes when the three name one repository", () => {
    const { code, output } = check(complete);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`names ${home}`));
  });

  it("stops fields that disagree, or an address that is not https", () => {
    const other = check({
      ...complete,
      bugs: { url: "https://git.example.org/other/repo/issues" },
    });
    assert.equal(other.code, 1);
    assert.match(other.output, /name different repositories/);
    const plain = check({ ...complete, homepage: "http://git.example.org/team/registry-relay" });
    assert.equal(plain.code, 1);
    assert.match(plain.output, /homepage is not an https address/);
  });

  it("agrees with this repository's package.json: it passes exactly when the fields are set", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    const set = Boolean(pkg.repository && pkg.homepage && pkg.bugs);
    const result = spawnSync(process.execPath, [script, join(repoRoot, "package.json")], {
      encoding: "utf8",
    });
    assert.equal(result.status, set ? 0 : 1, result.stderr);
  });
});

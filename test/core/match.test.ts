import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Event } from "../../src/event/schema.ts";
import { globMatcher, matchedBy, sourceOf } from "../../src/sinks/match.ts";

const event = (
  repository: string,
  tag: string | undefined,
  action = "push",
  format?: string,
): Event => ({
  id: `${repository}:${tag}`,
  timestamp: "2026-11-30T00:00:00Z",
  action,
  target: { repository, ...(tag === undefined ? {} : { tag }) },
  ...(format === undefined ? {} : { origin: { format, type: "PUSH_ARTIFACT" } }),
});

describe("globMatcher", () => {
  const cases: [glob: string, matches: string[], misses: string[]][] = [
    ["team-a/app", ["team-a/app"], ["team-a/app2", "team-a", "x/team-a/app", "team-A/app"]],
    ["team-a/*", ["team-a/app", "team-a/"], ["team-a", "team-a/sub/app", "team-b/app"]],
    ["team-a/**", ["team-a", "team-a/app", "team-a/sub/app"], ["team-ab/app", "team-b/app"]],
    ["**/app", ["app", "x/app", "x/y/app"], ["x/app2", "xapp", "x/app/y"]],
    ["a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "ab", "a/b/c"]],
    ["**", ["", "a", "a/b/c"], []],
    ["**/**", ["", "a", "a/b/c"], []],
    ["a/**/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a", "b"]],
    ["*/*", ["a/b", "/", "a/"], ["a", "a/b/c"]],
    ["*", ["", "app", "v1.2"], ["a/b"]],
    ["v*", ["v1", "v1.2.3", "v"], ["", "1.0", "xv1"]],
    ["*-rc*", ["1.0-rc1", "-rc"], ["1.0", "1.0-RC1"]],
    // Regex syntax stands for itself.
    ["v1.0", ["v1.0"], ["v1x0"]],
    ["a+b(c)[d]$^|?{2}", ["a+b(c)[d]$^|?{2}"], ["aab(c)[d]"]],
  ];
  for (const [glob, matches, misses] of cases) {
    it(`${glob}`, () => {
      const matches_ = globMatcher(glob);
      for (const text of matches) assert.ok(matches_(text), `${glob} matches ${text}`);
      for (const text of misses) assert.ok(!matches_(text), `${glob} does not match ${text}`);
    });
  }
});

describe("globMatcher on hostile values", () => {
  it("takes time linear in the value for globs that make backtracking regexps explode", () => {
    // As regular expressions these took 3.6 s and 32 s; a tag is whatever a registry user chose.
    const cases: [string, string][] = [
      ["*_*_*_*_*_*_*", `${"_".repeat(60)}/`],
      [`${"*a".repeat(10)}*c`, "a".repeat(40)],
      [`${"*a".repeat(60)}*c`, "a".repeat(5000)],
      [`**/${"*a".repeat(20)}*c/**`, Array.from({ length: 200 }, () => "a".repeat(50)).join("/")],
    ];
    for (const [glob, value] of cases) {
      const started = Date.now();
      assert.equal(globMatcher(glob)(value), false, glob);
      assert.ok(Date.now() - started < 250, `${glob}: ${Date.now() - started} ms`);
    }
  });
});

describe("matchedBy", () => {
  it("matches everything without rules, or with empty lists", () => {
    for (const rules of [undefined, {}, { repositories: [], tags: [] }]) {
      assert.equal(matchedBy(rules)(event("any/repo", undefined, "pull")), true);
    }
  });

  it("needs every given key to match, and any glob within a key", () => {
    const teamA = matchedBy({
      repositories: ["team-a/**"],
      tags: ["v*"],
      actions: ["push"],
      sources: ["harbor"],
    });
    assert.equal(teamA(event("team-a/app", "v1", "push", "harbor")), true);
    assert.equal(teamA(event("team-a/sub/app", "v2.0", "push", "harbor")), true);
    assert.equal(teamA(event("team-b/app", "v1", "push", "harbor")), false, "repository");
    assert.equal(teamA(event("team-a/app", "latest", "push", "harbor")), false, "tag");
    assert.equal(teamA(event("team-a/app", undefined, "push", "harbor")), false, "no tag");
    assert.equal(teamA(event("team-a/app", "v1", "pull", "harbor")), false, "action");
    assert.equal(teamA(event("team-a/app", "v1", "push", "quay")), false, "source");
    assert.equal(teamA(event("team-a/app", "v1", "push")), false, "distribution source");
    const either = matchedBy({
      repositories: ["team-a/**", "shared/*"],
      actions: ["push", "delete"],
    });
    assert.equal(either(event("shared/base", "1", "delete")), true);
    assert.equal(either(event("shared/x/base", "1", "delete")), false);
  });

  it("reads the source from origin.format, distribution without one", () => {
    assert.equal(sourceOf(event("r", "t")), "distribution");
    assert.equal(sourceOf(event("r", "t", "push", "zot")), "zot");
    assert.equal(sourceOf({ origin: { format: 7 } }), "distribution");
    const fromDistribution = matchedBy({ sources: ["distribution"] });
    assert.equal(fromDistribution(event("r", "t")), true);
    assert.equal(fromDistribution(event("r", "t", "push", "github")), false);
  });

  it("matches source-specific actions by glob", () => {
    const scans = matchedBy({ actions: ["harbor.scan.*"] });
    assert.equal(scans(event("r", undefined, "harbor.scan.completed", "harbor")), true);
    assert.equal(scans(event("r", undefined, "push", "harbor")), false);
  });
});

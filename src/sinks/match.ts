// An endpoint's `match` rules: which events it subscribes to, by repository, tag, action and
// source format, each a list of globs. The opposite of the ignore filter (ignored.ts), and
// applied beside it: an event goes to the endpoint when every given list matches and the ignore
// rules do not drop it.
import type { Event } from "../event/schema.ts";
import { originOf } from "../formats/model.ts";

/**
 * What an endpoint subscribes to. Each key is a list of globs; an event matches a key when any
 * glob of the list matches, and the rules when every given key matches (an absent or empty key
 * matches everything). Globs: `*` is any run of characters within one `/`-separated segment,
 * `**` as a whole segment is any number of segments, zero included (`team-a/**` matches
 * `team-a`, `team-a/app` and `team-a/sub/app`); every other character stands for itself, case
 * sensitive.
 *
 * - `repositories`: `target.repository`, without the registry's host (`team-a/**`).
 * - `tags`: `target.tag`; an event with no tag (a push by digest, a blob) is matched as the empty
 *   tag, which only `*`-only globs match (`v*` never matches it).
 * - `actions`: `push`, `pull`, `mount`, `delete`, or a source's own type for events with no
 *   distribution action (`harbor.scan.completed`).
 * - `sources`: the input format the event came in through (`distribution`, `harbor`, `github`,
 *   `dockerhub`, `quay`, `zot`, `acr`): its `origin.format`, `distribution` when it has none.
 *
 * @example
 * ```ts
 * import type { MatchRules } from "registry-relay";
 * const teamA: MatchRules = { repositories: ["team-a/**"], tags: ["v*"], actions: ["push"], sources: ["harbor"] };
 * ```
 */
export interface MatchRules {
  repositories?: readonly string[] | undefined;
  tags?: readonly string[] | undefined;
  actions?: readonly string[] | undefined;
  sources?: readonly string[] | undefined;
}

/** The fields the rules look at. */
type Matchable = {
  action: string;
  target?: { repository?: string; tag?: string | undefined };
  origin?: unknown;
};

const literal = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

/**
 * A glob (see {@link MatchRules}) as an anchored regular expression.
 *
 * @example
 * ```ts
 * import { globPattern } from "registry-relay";
 * globPattern("team-a/**").test("team-a/sub/app"); // true
 * globPattern("*").test("team-a/app"); // false: `*` stays within one segment
 * ```
 */
export function globPattern(glob: string): RegExp {
  const segments = glob.split("/");
  let source = "";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") {
      // Leading: any segments each followed by "/"; inner or trailing: any "/"-led segments.
      if (segments.length === 1) source += ".*";
      else if (i === 0) source += "(?:[^/]*/)*";
      else source += last ? "(?:/.*)?" : "(?:/[^/]*)*";
      return;
    }
    // A leading "**" brings its own "/"; every other segment is joined with one.
    if (i > 0 && !(i === 1 && segments[0] === "**")) source += "/";
    source += segment.split(/\*+/).map(literal).join("[^/]*");
  });
  return new RegExp(`^${source}$`);
}

/**
 * The input format an event came in through: its `origin.format` when that is a well-formed
 * origin of a known format (`originOf`), else `distribution`.
 */
export function sourceOf(event: object): string {
  return originOf(event as Event)?.format ?? "distribution";
}

/**
 * The match rules as a plain predicate: `true` for an event the endpoint subscribes to. The
 * in-memory `Endpoint` and the relay's ingest both route with it.
 *
 * @example
 * ```ts
 * import { matchedBy } from "registry-relay";
 * const wanted = matchedBy({ repositories: ["team-a/**"], tags: ["v*"] });
 * const routed = envelope.events.filter(wanted);
 * ```
 */
export function matchedBy(rules: MatchRules = {}): (event: Matchable) => boolean {
  const compile = (globs: readonly string[] | undefined) =>
    globs && globs.length > 0 ? globs.map(globPattern) : undefined;
  const checks: [RegExp[] | undefined, (event: Matchable) => string][] = [
    [compile(rules.repositories), (event) => event.target?.repository ?? ""],
    [compile(rules.tags), (event) => event.target?.tag ?? ""],
    [compile(rules.actions), (event) => event.action],
    [compile(rules.sources), sourceOf],
  ];
  const given = checks.filter((check): check is [RegExp[], (event: Matchable) => string] =>
    Boolean(check[0]),
  );
  return (event) =>
    given.every(([patterns, field]) => {
      const value = field(event);
      return patterns.some((pattern) => pattern.test(value));
    });
}

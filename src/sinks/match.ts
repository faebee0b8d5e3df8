// An endpoint's `match` rules: which events it subscribes to, by repository, tag, action and
// source format, each a list of globs. The opposite of the ignore filter (ignored.ts), and
// applied beside it: an event goes to the endpoint when every given list matches and the ignore
// rules do not drop it.
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

type Matcher = (value: string) => boolean;

/** The fields the rules look at. */
type Matchable = {
  action: string;
  target?: { repository?: string; tag?: string | undefined };
  origin?: unknown;
};

/**
 * Whether `text` (one segment) matches `pattern` (one segment, `*` any run of characters): the
 * greedy two-pointer wildcard match, which backs up only to the last `*`, so its time is at most
 * the product of the lengths, never exponential as a backtracking regular expression can be on
 * a tag a registry user chose.
 */
function segmentMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * A glob (see {@link MatchRules}) as a predicate on a value. Segments are matched one by one and
 * `**` by a table over (glob segment, value segment), so a match costs at most the product of
 * the sizes of glob and value, whatever the value.
 *
 * @example
 * ```ts
 * import { globMatcher } from "registry-relay";
 * globMatcher("team-a/**")("team-a/sub/app"); // true
 * globMatcher("*")("team-a/app"); // false: `*` stays within one segment
 * ```
 */
export function globMatcher(glob: string): (value: string) => boolean {
  // Consecutive `**` are one `**`.
  const globs = glob
    .split("/")
    .filter((segment, i, all) => !(segment === "**" && all[i - 1] === "**"));
  return (value) => {
    const parts = value.split("/");
    // matched[j]: glob segments so far match parts[0, j).
    let matched = Array.from({ length: parts.length + 1 }, (_, j) => j === 0);
    for (const segment of globs) {
      const next = new Array<boolean>(parts.length + 1).fill(false);
      for (let j = 0; j <= parts.length; j++) {
        if (segment === "**") {
          // Zero or more whole segments: anything reachable from a matched prefix.
          next[j] = (matched[j] ?? false) || (j > 0 && (next[j - 1] ?? false));
        } else if (j > 0 && matched[j - 1]) {
          next[j] = segmentMatches(segment, parts[j - 1] as string);
        }
      }
      matched = next;
    }
    return matched[parts.length] ?? false;
  };
}

/**
 * The input format an event came in through: its `origin.format` when that is a well-formed
 * origin of a known format (`originOf`), else `distribution`.
 */
export function sourceOf(event: object): string {
  return originOf(event)?.format ?? "distribution";
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
    globs && globs.length > 0 ? globs.map(globMatcher) : undefined;
  const checks: [Matcher[] | undefined, (event: Matchable) => string][] = [
    [compile(rules.repositories), (event) => event.target?.repository ?? ""],
    [compile(rules.tags), (event) => event.target?.tag ?? ""],
    [compile(rules.actions), (event) => event.action],
    [compile(rules.sources), sourceOf],
  ];
  const given = checks.filter((check): check is [Matcher[], (event: Matchable) => string] =>
    Boolean(check[0]),
  );
  return (event) =>
    given.every(([matchers, field]) => {
      const value = field(event);
      return matchers.some((matches) => matches(value));
    });
}

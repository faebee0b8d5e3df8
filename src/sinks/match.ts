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

/** The fields the rules look at. */
type Matchable = {
  action: string;
  target?: { repository?: string; tag?: string | undefined };
  origin?: unknown;
};

/**
 * Whether `text` matches `pattern`, item by item: `star` matches any run of items (none
 * included), any other item one item that `fits` it. The greedy two-pointer wildcard match, which
 * backs up only to the last star, so its time is at most the product of the lengths, never
 * exponential as a backtracking regular expression can be on a tag a registry user chose.
 */
function wildcard<T>(
  pattern: ArrayLike<T>,
  text: ArrayLike<T>,
  star: T,
  fits: (item: T, value: T) => boolean,
): boolean {
  let p = 0;
  let t = 0;
  let lastStar = -1;
  let mark = 0;
  while (t < text.length) {
    if (pattern[p] === star) {
      lastStar = p++;
      mark = t;
    } else if (p < pattern.length && fits(pattern[p] as T, text[t] as T)) {
      p++;
      t++;
    } else if (lastStar >= 0) {
      p = lastStar + 1;
      t = ++mark;
    } else return false;
  }
  while (pattern[p] === star) p++;
  return p === pattern.length;
}

/**
 * A glob (see {@link MatchRules}) as a predicate on a value: {@link wildcard} over the segments,
 * `**` the star, each other glob segment fitting a segment by {@link wildcard} over its characters,
 * `*` the star. A match costs at most the product of the sizes of glob and value, whatever the value.
 *
 * @example
 * ```ts
 * import { globMatcher } from "registry-relay";
 * globMatcher("team-a/**")("team-a/sub/app"); // true
 * globMatcher("*")("team-a/app"); // false: `*` stays within one segment
 * ```
 */
export function globMatcher(glob: string): (value: string) => boolean {
  const segments = glob.split("/");
  return (value) =>
    wildcard(segments, value.split("/"), "**", (segment, part) =>
      wildcard(segment, part, "*", Object.is),
    );
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
  // One key: true when it has no globs (its field is then not even read), else any glob matches.
  const key = (globs: readonly string[] | undefined, field: (event: Matchable) => string) => {
    const matchers = globs?.map(globMatcher) ?? [];
    const any = (value: string) => matchers.some((matches) => matches(value));
    return (event: Matchable) => matchers.length === 0 || any(field(event));
  };
  const keys = [
    key(rules.repositories, (event) => event.target?.repository ?? ""),
    key(rules.tags, (event) => event.target?.tag ?? ""),
    key(rules.actions, (event) => event.action),
    key(rules.sources, sourceOf),
  ];
  return (event) => keys.every((matches) => matches(event));
}

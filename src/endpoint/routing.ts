// Which events an endpoint takes: the one rule the in-memory Endpoint and the relay's ingest both
// route with. Its output format first (an event it cannot be sent as is not queued), then
// distribution's ignore rules, then the endpoint's `match` subscription.
import { type EndpointFormat, type OutputFormat, outputFormatOf } from "../event/output.ts";
import type { Event } from "../event/schema.ts";
import { ignoredBy } from "../sinks/ignored.ts";
import { type MatchRules, matchedBy } from "../sinks/match.ts";

/** The keys of an endpoint's configuration that routing reads. */
export interface RoutingRules {
  /**
   * The output format (its `accepts`): `distribution` (the default) or an OutputFormat; the other
   * names are a TypeError saying where their objects are (`outputFormats`).
   */
  format?: EndpointFormat | OutputFormat | undefined;
  match?: MatchRules | undefined;
  ignore?: { mediatypes?: readonly string[]; actions?: readonly string[] } | undefined;
}

/**
 * An endpoint's routing as a predicate: `true` for an event it takes. First what its output
 * format can carry (`accepts`): distribution envelopes take every event but other registries'
 * own types (a Harbor scan has no envelope form; a GitLab `rename` does); CDEvents only what has
 * a CDEvents type (`cdEventTypeOf`: no blobs, no mounts); CloudEvents every event. Then the
 * ignore rules drop, and the `match` rules must all match.
 *
 * @example
 * ```ts
 * import { routesTo } from "registry-relay";
 * import { parseEndpointConfig } from "registry-relay/config";
 * import { outputFormats } from "registry-relay/formats";
 * const config = parseEndpointConfig({ url: "https://hooks.example.com/in", match: { tags: ["v*"] } });
 * const taken = envelope.events.filter(routesTo({ ...config, format: outputFormats[config.format] }));
 * ```
 */
export function routesTo(rules: RoutingRules): (event: Event) => boolean {
  const ignored = ignoredBy({
    mediaTypes: rules.ignore?.mediatypes ?? [],
    actions: rules.ignore?.actions ?? [],
  });
  const matched = matchedBy(rules.match);
  const format = outputFormatOf(rules.format, "routesTo");
  return (event) => format.accepts(event) && !ignored(event) && matched(event);
}

// Which events an endpoint takes: the one rule the in-memory Endpoint and the relay's ingest both
// route with. Its output format first (an event it cannot be sent as is not queued), then
// distribution's ignore rules, then the endpoint's `match` subscription.
import type { Event } from "../event/schema.ts";
import { cdEventTypeOf } from "../formats/cdevents.ts";
import { isUnsupportedAction } from "../formats/model.ts";
import type { EndpointFormat } from "../sinks/http-body.ts";
import { ignoredBy } from "../sinks/ignored.ts";
import { type MatchRules, matchedBy } from "../sinks/match.ts";

/** The keys of an endpoint's configuration that routing reads. */
export interface RoutingRules {
  format?: EndpointFormat | undefined;
  match?: MatchRules | undefined;
  ignore?: { mediatypes?: readonly string[]; actions?: readonly string[] } | undefined;
}

/**
 * An endpoint's routing as a predicate: `true` for an event it takes. A `distribution` endpoint
 * takes every event but other registries' own types (a Harbor scan has no envelope form; a
 * GitLab `rename` does); a `cdevents` endpoint
 * only what has a CDEvents type (`cdEventTypeOf`: no blobs, no mounts); a `cloudevents` endpoint
 * takes every event, other registries' own types included. Then the ignore rules drop, and the
 * `match` rules must all match.
 *
 * @example
 * ```ts
 * import { parseEndpointConfig, routesTo } from "registry-relay";
 * const config = parseEndpointConfig({ url: "https://hooks.example.com/in", match: { tags: ["v*"] } });
 * const taken = envelope.events.filter(routesTo(config));
 * ```
 */
export function routesTo(rules: RoutingRules): (event: Event) => boolean {
  const ignored = ignoredBy({
    mediaTypes: rules.ignore?.mediatypes ?? [],
    actions: rules.ignore?.actions ?? [],
  });
  const matched = matchedBy(rules.match);
  const format = rules.format ?? "distribution";
  const sendable = (event: Event) =>
    format === "cloudevents"
      ? true
      : format === "cdevents"
        ? cdEventTypeOf(event) !== undefined
        : !isUnsupportedAction(event.action);
  return (event) => sendable(event) && !ignored(event) && matched(event);
}

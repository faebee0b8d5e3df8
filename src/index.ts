// registry-relay: the runtime-agnostic core. Re-exports only; one concept per module. The valibot
// schemas are in registry-relay/schema, the Hono middleware in registry-relay/hono.

export * from "./endpoint/config.ts";
export * from "./endpoint/duration.ts";
export * from "./endpoint/endpoint.ts";
export * from "./endpoint/routing.ts";
export * from "./event/bridge.ts";
export * from "./event/constants.ts";
export * from "./event/envelope.ts";
export * from "./event/ids.ts";
export type {
  ActorRecord,
  Descriptor,
  Envelope,
  Event,
  Platform,
  RequestRecord,
  SourceRecord,
  Target,
} from "./event/schema.ts";
export * from "./sinks/broadcaster.ts";
export * from "./sinks/http.ts";
export { contentTypeOf, ENDPOINT_FORMATS, type EndpointFormat } from "./sinks/http-body.ts";
export * from "./sinks/ignored.ts";
export * from "./sinks/match.ts";
export * from "./sinks/metrics.ts";
export * from "./sinks/queue.ts";
export * from "./sinks/retry-policy.ts";
export * from "./sinks/retrying.ts";
export * from "./sinks/sink.ts";
export * from "./sinks/strategies.ts";
export * from "./webhooks/webhooks.ts";

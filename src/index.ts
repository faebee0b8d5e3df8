// registry-relay: the runtime-agnostic core: the envelope, Standard Webhooks, and delivery
// (sinks, Endpoint). Re-exports only; one concept per module. Each audience's extras have a
// subpath of their own, so a bundle never carries them unasked: registry-relay/config (reading
// configuration files), /bridge (a registry emitting events), /formats (other registries in,
// CloudEvents and CDEvents out), /schema (valibot), /hono (middleware), and /webhooks (GitHub's
// signature besides Standard Webhooks).

export * from "./endpoint/endpoint.ts";
export * from "./endpoint/routing.ts";
export type { EndpointConfig, EndpointSettings } from "./endpoint/settings.ts";
export * from "./event/constants.ts";
export * from "./event/envelope.ts";
export { isTimestamp } from "./event/ids.ts";
export {
  distributionFormat,
  ENDPOINT_FORMATS,
  type EndpointFormat,
  isUnsupportedAction,
  type OutputFormat,
  type OutputMessage,
  type OutputShape,
} from "./event/output.ts";
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
export * from "./sinks/ignored.ts";
export * from "./sinks/match.ts";
export * from "./sinks/metrics.ts";
export * from "./sinks/queue.ts";
export * from "./sinks/retry-policy.ts";
export * from "./sinks/retrying.ts";
export * from "./sinks/sink.ts";
export * from "./sinks/strategies.ts";
export {
  type SignWebhookOptions,
  signWebhook,
  timingSafeEqual,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookBody,
  type WebhookHeaders,
  type WebhookSecret,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "./webhooks/webhooks.ts";

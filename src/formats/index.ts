// `registry-relay/formats`: every registry's notifications in, as distribution Events, and the
// CNCF standards out. Re-exports only; one format per module, so a bundle keeps just what it
// imports:
//
// - model.ts: the formats, `Origin` (each normalized event's `origin`), the input, `Normalized`
//   and `FormatError`;
// - normalize.ts: `normalizeNotification` (any format) and `normalizeDistribution`;
// - harbor.ts, github.ts, dockerhub.ts, quay.ts, zot.ts, acr.ts: one normalizer each;
// - cloudevents.ts, cdevents.ts (with purl.ts): an event as a CloudEvent 1.0, as a CDEvent 0.5.1,
//   and each as an endpoint's output format; output.ts: the formats by configuration name.
//
// Helpers the normalizers share (read.ts, build.ts, cloudevent-in.ts) are not exported.

export { normalizeAcr } from "./acr.ts";
export {
  type ArtifactCDEvent,
  type CDEventMessage,
  CDEventsSpecVersion,
  CDEventTypes,
  cdEventsFormat,
  cdEventTypeOf,
  ManifestMediaTypes,
  toCDEvent,
} from "./cdevents.ts";
export {
  CloudEventMediaType,
  type CloudEventOptions,
  CloudEventsBatchMediaType,
  type CloudEventsBody,
  CloudEventTypes,
  cloudEventSource,
  cloudEventsFormat,
  cloudEventType,
  type RegistryCloudEvent,
  toCloudEvent,
  toCloudEventsBody,
} from "./cloudevents.ts";
export { DOCKER_HUB_REGISTRY_HOST, normalizeDockerHub } from "./dockerhub.ts";
export { normalizeGithub } from "./github.ts";
export { normalizeHarbor } from "./harbor.ts";
export {
  FormatError,
  type FormatIssue,
  type HeadersInput,
  INPUT_FORMATS,
  type InputFormat,
  isInputFormat,
  isUnsupportedAction,
  type Normalized,
  type NotificationInput,
  type Origin,
  originOf,
} from "./model.ts";
export { normalizeDistribution, normalizeNotification } from "./normalize.ts";
export { outputFormats } from "./output.ts";
export { type OciPurlParts, ociPurl } from "./purl.ts";
export { normalizeQuay } from "./quay.ts";
export { normalizeZot } from "./zot.ts";

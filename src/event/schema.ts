// The event model as valibot schemas; every type is inferred from them and never written twice.
// Objects are loose (unknown keys are kept) so that a newer registry's fields survive a relay.
// `parseEnvelope` (envelope.ts) applies exactly these rules with a hand-written single pass for
// speed; test/core/envelope.test.ts checks both agree on a corpus of valid and broken envelopes.
import * as v from "valibot";
import { isTimestamp } from "./ids.ts";

const text = v.string();
/** Sizes are Go int64s; only safe integers re-encode exactly, so larger values are rejected. */
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
/* @__NO_SIDE_EFFECTS__ */
function nonEmpty(what: string) {
  return v.pipe(v.string(), v.minLength(1, `${what} must not be empty`));
}

/** `{...}` only: valibot's object schemas would otherwise accept arrays, which Go rejects. */
const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/* @__NO_SIDE_EFFECTS__ */
function objectOf<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isJsonObject, "must be an object"),
    v.looseObject(entries),
  );
}

/**
 * RFC 3339 date-time as distribution writes it (see `isTimestamp`).
 * Kept as the original string so an envelope re-encodes byte for byte.
 */
const Timestamp = v.pipe(
  v.string(),
  v.check(isTimestamp, "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z"),
);

/**
 * An OCI platform (`architecture`, `os`, `os.version`, `os.features`, `variant`), as carried by
 * index children in `target.references`.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { PlatformSchema } from "registry-relay/schema";
 * v.parse(PlatformSchema, { architecture: "arm64", os: "linux", variant: "v8" });
 * ```
 */
export const PlatformSchema = objectOf({
  architecture: text,
  os: text,
  "os.version": v.optional(text),
  "os.features": v.optional(v.array(text)),
  variant: v.optional(text),
  features: v.optional(v.array(text)),
});

/** The descriptor fields shared by `target` and each `target.references` entry. */
const descriptorEntries = {
  mediaType: v.optional(text),
  size: v.optional(count),
  digest: v.optional(text),
  urls: v.optional(v.array(text)),
  annotations: v.optional(
    v.pipe(
      v.custom<Record<string, unknown>>(isJsonObject, "must be an object"),
      v.record(v.string(), v.string()),
    ),
  ),
  data: v.optional(text),
  platform: v.optional(PlatformSchema),
  artifactType: v.optional(text),
};

/**
 * A content descriptor: distribution 2.x's `distribution.Descriptor` or v3's OCI descriptor.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { DescriptorSchema } from "registry-relay/schema";
 * v.parse(DescriptorSchema, { mediaType: "application/octet-stream", size: 3, digest: "sha256:..." });
 * ```
 */
export const DescriptorSchema = objectOf(descriptorEntries);

/**
 * The `target` of an event: a descriptor with distribution's extra fields flattened in.
 * Only `repository` is always present (deletes carry little else).
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { TargetSchema } from "registry-relay/schema";
 * v.parse(TargetSchema, { repository: "library/alpine", tag: "3.19" });
 * ```
 */
export const TargetSchema = objectOf({
  ...descriptorEntries,
  length: v.optional(count),
  repository: nonEmpty("repository"),
  fromRepository: v.optional(text),
  url: v.optional(text),
  tag: v.optional(text),
  references: v.optional(v.array(DescriptorSchema)),
});

/**
 * The HTTP request that caused an event: registry request id, client address, `Host`, method
 * and user agent.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { RequestRecordSchema } from "registry-relay/schema";
 * v.parse(RequestRecordSchema, { id: "r1", method: "PUT", useragent: "skopeo/1.9.3" });
 * ```
 */
export const RequestRecordSchema = objectOf({
  id: v.optional(text),
  addr: v.optional(text),
  host: v.optional(text),
  method: v.optional(text),
  useragent: v.optional(text),
});

/**
 * Who caused the event: `{}` for anonymous requests.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { ActorRecordSchema } from "registry-relay/schema";
 * v.parse(ActorRecordSchema, { name: "alice" });
 * ```
 */
export const ActorRecordSchema = objectOf({ name: v.optional(text) });

/**
 * The registry node that emitted the event: `hostname:port` and a per-process instance id.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { SourceRecordSchema } from "registry-relay/schema";
 * v.parse(SourceRecordSchema, { addr: "registry-0:5000", instanceID: "0a7d2c5e" });
 * ```
 */
export const SourceRecordSchema = objectOf({
  addr: v.optional(text),
  instanceID: v.optional(text),
});

/**
 * One registry event. `id`, `timestamp`, `action` and `target.repository` are required.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EventSchema } from "registry-relay/schema";
 * const ok = v.is(EventSchema, candidate);
 * ```
 */
export const EventSchema = objectOf({
  id: nonEmpty("id"),
  timestamp: Timestamp,
  action: nonEmpty("action"),
  target: TargetSchema,
  request: v.optional(RequestRecordSchema),
  actor: v.optional(ActorRecordSchema),
  source: v.optional(SourceRecordSchema),
});

/**
 * The body a registry POSTs: `{ "events": [...] }`.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EnvelopeSchema } from "registry-relay/schema";
 * const result = v.safeParse(EnvelopeSchema, JSON.parse(body));
 * ```
 */
export const EnvelopeSchema = objectOf({ events: v.array(EventSchema) });

/**
 * An OCI platform. @example `const p: Platform = { architecture: "amd64", os: "linux" };`
 */
export type Platform = v.InferOutput<typeof PlatformSchema>;
/**
 * A content descriptor. @example `const d: Descriptor = { mediaType: "application/octet-stream", size: 1, digest: "sha256:ab" };`
 */
export type Descriptor = v.InferOutput<typeof DescriptorSchema>;
/**
 * An event's target. @example `const t: Target = { repository: "team/app", tag: "v1" };`
 */
export type Target = v.InferOutput<typeof TargetSchema>;
/**
 * The request record. @example `const r: RequestRecord = { id: "r1", method: "PUT", useragent: "skopeo/1.9.3" };`
 */
export type RequestRecord = v.InferOutput<typeof RequestRecordSchema>;
/**
 * The actor record. @example `const a: ActorRecord = {};`
 */
export type ActorRecord = v.InferOutput<typeof ActorRecordSchema>;
/**
 * The source record. @example `const s: SourceRecord = { addr: "vm:5000", instanceID: "i-1" };`
 */
export type SourceRecord = v.InferOutput<typeof SourceRecordSchema>;
/**
 * One registry event. @example `const pushes = envelope.events.filter((e: Event) => e.action === "push");`
 */
export type Event = v.InferOutput<typeof EventSchema>;
/**
 * The envelope. @example `const envelope: Envelope = { events: [] };`
 */
export type Envelope = v.InferOutput<typeof EnvelopeSchema>;

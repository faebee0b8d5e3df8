// The registry side: build events exactly as distribution's notification bridge does
// (notifications/bridge.go), for a registry or proxy written in TypeScript.

import type { EventAction } from "./constants.ts";
import {
  BlobMediaType,
  EventActionDelete,
  EventActionMount,
  EventActionPull,
  EventActionPush,
} from "./constants.ts";
import { formatTimestamp, uuidv4, uuidv7 } from "./ids.ts";
import type {
  ActorRecord,
  Descriptor,
  Event,
  RequestRecord,
  SourceRecord,
  Target,
} from "./schema.ts";

// `registry-relay/bridge` is this module: with the ids and timestamps events are made with.
export { formatTimestamp, uuidv4, uuidv7 } from "./ids.ts";

/**
 * Options of `createBridge`: the records every event of one registry request carries and how
 * targets, ids and timestamps are made.
 *
 * @example
 * ```ts
 * import type { BridgeOptions } from "registry-relay/bridge";
 * const options: BridgeOptions = {
 *   source: { addr: "registry-0:5000", instanceID: "0a7d2c5e-1f7d-4a8e-9a52-0f2f4d4c1b7a" },
 *   actor: { name: "alice" },
 *   request: { id: "r1", addr: "10.0.0.7:51234", host: "registry.local:5000", method: "PUT", useragent: "docker/25.0.3" },
 *   baseUrl: "https://registry.local:5000",
 * };
 * ```
 */
export interface BridgeOptions {
  /** The registry node: `addr` (`hostname:port`) and a per-process `instanceID`. */
  source: SourceRecord;
  /** Who made the request (`{}` when anonymous). */
  actor: ActorRecord;
  /** The HTTP request that causes the events. */
  request: RequestRecord;
  /**
   * Registry base URL for `target.url` (`<base>/v2/<repo>/manifests/<digest>`); a path prefix is
   * kept. `""` gives relative URLs (`/v2/...`), like distribution's `http.relativeurls`.
   */
  baseUrl: string;
  /** Event id flavour: `"v4"` (distribution 2.x, default) or `"v7"` (3.1+, time-ordered). */
  ids?: "v4" | "v7";
  /** Put `references` on manifest events (`notifications.events.includereferences`). */
  includeReferences?: boolean;
  /** Clock for timestamps (default: now, with sub-millisecond digits when available). */
  now?: () => Date;
}

/**
 * A manifest as the bridge needs it: the canonical descriptor of its payload.
 *
 * @example
 * ```ts
 * import type { ManifestDescriptor } from "registry-relay/bridge";
 * const manifest: ManifestDescriptor = {
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest: "sha256:3e0ad3a67c04032083fd0cdc35d06ca1dfc2acd598205e64ac2d3342ba541af3",
 *   size: 563,
 * };
 * ```
 */
export interface ManifestDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/**
 * A blob descriptor as the blob store reports it; `mediaType` defaults to
 * `application/octet-stream` (what distribution's filesystem store reports).
 *
 * @example
 * ```ts
 * import type { BlobDescriptor } from "registry-relay/bridge";
 * const layer: BlobDescriptor = { digest: "sha256:29836e8468e0...", size: 2811 };
 * ```
 */
export type BlobDescriptor = Descriptor & { digest: string; size: number };

/**
 * Extras of a manifest pull or push: the tag the request named, and the manifest's references
 * (config then layers, or an index's children with `platform`), kept only with
 * `includeReferences`.
 *
 * @example
 * ```ts
 * import type { ManifestEventOptions } from "registry-relay/bridge";
 * const extras: ManifestEventOptions = { tag: "latest" };
 * ```
 */
export interface ManifestEventOptions {
  tag?: string;
  references?: Descriptor[];
}

/**
 * The event factory returned by `createBridge`; one method per event distribution emits.
 *
 * @example
 * ```ts
 * import { createBridge, type Bridge } from "registry-relay/bridge";
 * const bridge: Bridge = createBridge(options);
 * await sink.write(bridge.tagDeleted("team/app", "old"));
 * ```
 */
export interface Bridge {
  /** `pull` of a manifest (GET or HEAD `/v2/<repo>/manifests/<ref>`). */
  manifestPulled(
    repository: string,
    manifest: ManifestDescriptor,
    options?: ManifestEventOptions,
  ): Event;
  /** `push` of a manifest (PUT `/v2/<repo>/manifests/<ref>`). */
  manifestPushed(
    repository: string,
    manifest: ManifestDescriptor,
    options?: ManifestEventOptions,
  ): Event;
  /** `delete` of a manifest by digest: target `{ repository, digest }`. */
  manifestDeleted(repository: string, digest: string): Event;
  /** `pull` of a blob (GET or HEAD `/v2/<repo>/blobs/<digest>`). */
  blobPulled(repository: string, blob: BlobDescriptor): Event;
  /** `push` of a blob (upload committed). */
  blobPushed(repository: string, blob: BlobDescriptor): Event;
  /** `mount` of a blob from `fromRepository` (cross-repository mount). */
  blobMounted(repository: string, blob: BlobDescriptor, fromRepository: string): Event;
  /** `delete` of a blob: target `{ repository, digest }`. */
  blobDeleted(repository: string, digest: string): Event;
  /** `delete` of a tag: target `{ repository, tag }`. */
  tagDeleted(repository: string, tag: string): Event;
  /** `delete` of a repository: target `{ repository }`. */
  repoDeleted(repository: string): Event;
}

// distribution/reference grammar: path components joined by "/", at most 255 characters.
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
// reference.WithDigest's check: algorithm ":" at least 32 hex digits.
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const TAG = /^\w[\w.-]{0,127}$/;

function check<T>(method: string, what: string, value: unknown, valid: boolean, rule: string): T {
  if (valid) return value as T;
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new TypeError(`${method}: ${what} ${shown} is not valid: ${rule}`);
}

const matches = (value: unknown, pattern: RegExp): boolean =>
  typeof value === "string" && pattern.test(value);

const checkRepository = (method: string, value: unknown, what = "repository"): string =>
  check(
    method,
    what,
    value,
    matches(value, REPOSITORY) && (value as string).length <= 255,
    "lowercase path components separated by '/', at most 255 characters",
  );

const checkDigest = (method: string, value: unknown): string =>
  check(
    method,
    "digest",
    value,
    matches(value, DIGEST),
    "expected algorithm:hex such as sha256:<64 hex digits>",
  );

const checkSize = (method: string, value: unknown): number =>
  check(
    method,
    "size",
    value,
    Number.isSafeInteger(value) && (value as number) >= 0,
    "expected a non-negative integer",
  );

const checkTag = (method: string, value: unknown): string =>
  check(method, "tag", value, matches(value, TAG), "expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

/**
 * Copies `keys` of `from` (arrays and objects one level deep) unless a value is Go's empty value
 * for omitempty (undefined, "", 0, [], {}).
 */
function copy<T extends object>(into: T, from: object, keys: readonly string[]): T {
  for (const key of keys) {
    let value = (from as Record<string, unknown>)[key];
    if (value === undefined || value === "" || value === 0) continue;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      value = [...value];
    } else if (typeof value === "object" && value !== null) {
      if (Object.keys(value).length === 0) continue;
      value = { ...value };
    }
    (into as Record<string, unknown>)[key] = value;
  }
  return into;
}

/** The descriptor fields distribution copies, omitempty, in the v2.x struct order. */
function copyDescriptor<T extends object>(into: T, descriptor: Descriptor): T {
  copy(into, descriptor, ["mediaType", "size", "digest", "urls", "annotations", "data"]);
  const { platform } = descriptor;
  // A platform is a pointer in Go (kept when set) whose architecture and os are always written.
  if (platform) {
    const { architecture, os } = platform;
    (into as Descriptor).platform = copy({ architecture, os }, platform, [
      "os.version",
      "os.features",
      "variant",
      "features",
    ]);
  }
  return copy(into, descriptor, ["artifactType"]);
}

function trimBase(baseUrl: string): string {
  check("createBridge", "baseUrl", baseUrl, typeof baseUrl === "string", "expected a string");
  let absolute = baseUrl === "" || baseUrl.startsWith("/");
  try {
    absolute ||= new URL(baseUrl) !== undefined;
  } catch {}
  check("createBridge", "baseUrl", baseUrl, absolute, 'expected an absolute URL, a path or ""');
  return baseUrl.replace(/\/+$/, "");
}

/**
 * Creates the event factory of one registry request, mirroring distribution's bridge: every
 * method returns a complete `Event` (fresh id, timestamp, the given source/actor/request) whose
 * target has distribution's shape for that event:
 *
 * | method | action | target |
 * |---|---|---|
 * | `manifestPulled` / `manifestPushed` | pull / push | mediaType, size, digest, length, repository, url, [tag], [references] |
 * | `blobPulled` / `blobPushed` | pull / push | the blob descriptor (mediaType default `application/octet-stream`), length, repository, url |
 * | `blobMounted` | mount | as a blob push + fromRepository |
 * | `manifestDeleted` / `blobDeleted` | delete | repository, digest |
 * | `tagDeleted` | delete | repository, tag |
 * | `repoDeleted` | delete | repository |
 *
 * `length` equals `size`; `url` is the digest URL. Empty values are left out as Go's
 * `omitempty` does, so `encodeEnvelope({ events: [event] })` writes what distribution writes.
 *
 * @throws TypeError for an invalid repository name, digest, size, tag or base URL (the message
 *   names the method and the field).
 * @example
 * ```ts
 * import { encodeEnvelope } from "registry-relay";
 * import { createBridge } from "registry-relay/bridge";
 * const bridge = createBridge({
 *   source: { addr: "registry-0:5000", instanceID: "0a7d2c5e-1f7d-4a8e-9a52-0f2f4d4c1b7a" },
 *   actor: { name: "alice" },
 *   request: { id: "r1", method: "PUT", useragent: "docker/25.0.3" },
 *   baseUrl: "https://registry.local:5000",
 *   ids: "v7",
 * });
 * const event = bridge.manifestPushed("team/app", { mediaType, digest, size }, { tag: "v1" });
 * await fetch(endpoint, { method: "POST", body: encodeEnvelope({ events: [event] }) });
 * ```
 */
export function createBridge(options: BridgeOptions): Bridge {
  const base = trimBase(options.baseUrl);
  const includeReferences = options.includeReferences === true;
  const { now, ids = "v4", request: from } = options;
  check("createBridge", "ids", ids, ids === "v4" || ids === "v7", 'expected "v4" or "v7"');
  const source: SourceRecord = copy({}, options.source, ["addr", "instanceID"]);
  const actor: ActorRecord = copy({}, options.actor, ["name"]);
  // Go writes `id`, `method` and `useragent` even when empty; `addr` and `host` are omitempty.
  const request: RequestRecord = copy({ id: from.id ?? "" }, from, ["addr", "host"]);
  request.method = from.method ?? "";
  request.useragent = from.useragent ?? "";

  // Records are copied per event so that a consumer changing one event cannot change another.
  const event = (action: EventAction, target: Target): Event => {
    const date = now?.();
    return {
      id: ids === "v7" ? uuidv7(date?.getTime()) : uuidv4(),
      timestamp: formatTimestamp(date),
      action,
      target,
      request: { ...request },
      actor: { ...actor },
      source: { ...source },
    };
  };

  const manifestEvent =
    (method: string, action: EventAction) =>
    (repository: string, manifest: ManifestDescriptor, extras: ManifestEventOptions = {}) => {
      checkRepository(method, repository);
      const mediaType = manifest?.mediaType;
      check(
        method,
        "manifest.mediaType",
        mediaType,
        typeof mediaType === "string" && mediaType !== "",
        "expected a non-empty string",
      );
      const digest = checkDigest(method, manifest.digest);
      const size = checkSize(method, manifest.size);
      // Only media type, digest and size come from the manifest (as in distribution).
      const target: Target = {
        mediaType,
        ...(size && { size }),
        digest,
        ...(size && { length: size }),
        repository,
        url: `${base}/v2/${repository}/manifests/${digest}`,
      };
      if (extras.tag !== undefined) target.tag = checkTag(method, extras.tag);
      if (includeReferences && extras.references?.length) {
        target.references = extras.references.map((reference) => copyDescriptor({}, reference));
      }
      return event(action, target);
    };

  const blobEvent =
    (method: string, action: EventAction) =>
    (repository: string, blob: BlobDescriptor, fromRepository?: string) => {
      const mount = action === EventActionMount;
      if (mount) {
        check(
          method,
          "fromRepository",
          fromRepository,
          fromRepository !== undefined,
          "the source repository is required",
        );
      }
      checkRepository(method, repository);
      const digest = checkDigest(method, blob?.digest);
      const size = checkSize(method, blob.size);
      const target = copyDescriptor({} as Target, {
        ...blob,
        mediaType: blob.mediaType || BlobMediaType,
      });
      if (size) target.length = size;
      target.repository = repository;
      if (mount) target.fromRepository = checkRepository(method, fromRepository, "fromRepository");
      target.url = `${base}/v2/${repository}/blobs/${digest}`;
      return event(action, target);
    };

  /** A delete of a repository, or of its manifest or blob (`digest`) or `tag`: `value` first. */
  const deleteEvent =
    (method: string, key?: "digest" | "tag") => (repository: string, value?: string) => {
      const extra = key && { [key]: (key === "tag" ? checkTag : checkDigest)(method, value) };
      checkRepository(method, repository);
      return event(EventActionDelete, { repository, ...extra });
    };

  return {
    manifestPulled: manifestEvent("manifestPulled", EventActionPull),
    manifestPushed: manifestEvent("manifestPushed", EventActionPush),
    manifestDeleted: deleteEvent("manifestDeleted", "digest"),
    blobPulled: blobEvent("blobPulled", EventActionPull),
    blobPushed: blobEvent("blobPushed", EventActionPush),
    blobMounted: blobEvent("blobMounted", EventActionMount),
    blobDeleted: deleteEvent("blobDeleted", "digest"),
    tagDeleted: deleteEvent("tagDeleted", "tag"),
    repoDeleted: deleteEvent("repoDeleted"),
  };
}

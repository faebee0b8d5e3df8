// Harbor's webhooks (goharbor/harbor src/pkg/notifier/formats), in either of its payload formats:
//
// - Default (`application/json`): `{type, occur_at, operator, event_data}`, `occur_at` in Unix
//   seconds, `type` such as PUSH_ARTIFACT;
// - CloudEvents (structured mode, `application/cloudevents+json`): `type` such as
//   `harbor.artifact.pushed`, `time` in RFC 3339, `data` exactly Default's `event_data`, and the
//   extension attributes `operator` and `requestid`.
//
// Told apart by `Content-Type`, or by the body's shape (`specversion`) when a proxy changed it.
// One event per `event_data.resources[]` entry.

import { EventActionDelete, EventActionPull, EventActionPush } from "../event/constants.ts";
import { child } from "../event/limits.ts";
import { type Draft, finish, idKey, parseReference, tagOnly, unsupportedType } from "./build.ts";
import { cloudEventMode, structuredEvent } from "./cloudevent-in.ts";
import type { Normalized, NotificationInput } from "./model.ts";
import { type Json, Reader } from "./read.ts";

/** Default `type` → the type Harbor's CloudEvents format gives the same event (cloudevents.go). */
const CLOUDEVENTS_TYPES: Record<string, string> = {
  PUSH_ARTIFACT: "harbor.artifact.pushed",
  PULL_ARTIFACT: "harbor.artifact.pulled",
  DELETE_ARTIFACT: "harbor.artifact.deleted",
  CREATE_TAG: "harbor.tag.created",
  QUOTA_EXCEED: "harbor.quota.exceeded",
  QUOTA_WARNING: "harbor.quota.warned",
  REPLICATION: "harbor.replication.status.changed",
  SCANNING_FAILED: "harbor.scan.failed",
  SCANNING_COMPLETED: "harbor.scan.completed",
  SCANNING_STOPPED: "harbor.scan.stopped",
  TAG_RETENTION: "harbor.tag_retention.finished",
};

/** The artifact events, by CloudEvents type: the only ones with a distribution action. */
const ACTIONS: Record<string, string> = {
  "harbor.artifact.pushed": EventActionPush,
  "harbor.artifact.pulled": EventActionPull,
  "harbor.artifact.deleted": EventActionDelete,
};

/** What both formats share once read: the native type, its CloudEvents type and the context. */
interface Envelope {
  native: string;
  cloudEventsType: string;
  timestamp: string;
  operator: string | undefined;
  requestId: string | undefined;
  sourceId: string | undefined;
  data: Json | undefined;
  dataPath: string;
}

function readDefault(reader: Reader, root: Json): Envelope {
  const native = reader.string(root, "type", "");
  const cloudEventsType = CLOUDEVENTS_TYPES[native] ?? unsupportedType("harbor", native);
  const supported = ACTIONS[cloudEventsType] !== undefined;
  return {
    native,
    cloudEventsType,
    timestamp: reader.unixSeconds(root, "occur_at", ""),
    operator: reader.optString(root, "operator", ""),
    requestId: undefined,
    sourceId: undefined,
    data: supported
      ? reader.object(root, "event_data", "")
      : reader.optObject(root, "event_data", ""),
    dataPath: "event_data",
  };
}

function readCloudEvent(reader: Reader, root: Json): Envelope {
  const event = structuredEvent(reader, root);
  if (event.time === undefined) reader.fail("time", "is required");
  return {
    native: event.type,
    cloudEventsType: event.type,
    timestamp: event.time,
    operator: event.extension("operator"),
    requestId: event.extension("requestid"),
    sourceId: event.id,
    data: event.data,
    dataPath: event.dataPath,
  };
}

/**
 * Normalizes a Harbor webhook (Default or CloudEvents format) into distribution Events: one per
 * `resources[]` entry. PUSH_ARTIFACT, PULL_ARTIFACT and DELETE_ARTIFACT (`harbor.artifact.*`)
 * become `push`, `pull` and `delete`; every other type (scans, quotas, replication, retention,
 * tag creation) goes to `unsupported` with Harbor's CloudEvents type as `action`.
 *
 * - `target.repository`: `repository.repo_full_name` (else `namespace/name`, else the path of
 *   `resource_url`); `target.digest`: the resource's `digest`; `target.tag`: its `tag`, except
 *   when Harbor put the digest there (pushes and pulls by digest). Harbor gives no media type or
 *   size. `resource_url` is a reference without a scheme, not a URL: only its host is kept, as
 *   `request.host`.
 * - `timestamp`: `occur_at` (Unix seconds) or the CloudEvent's `time`; `actor.name`: `operator`;
 *   `request.id`: the CloudEvent's `requestid`.
 * - ids: from the CloudEvent's `id`, else from the payload.
 *
 * An artifact event with an empty `resources` gives no event; any other type without resources
 * (replication, retention, quota) gives one, named for `repository` or else `harbor`.
 *
 * @throws FormatError for a body that is not Harbor's (not JSON, no `type`, an artifact event
 *   without `event_data.resources` or a repository, a `specversion` other than 1.0…).
 * @example
 * ```ts
 * import { normalizeHarbor } from "registry-relay/formats";
 * const { events } = await normalizeHarbor({ body, headers: request.headers });
 * events[0]; // { id, timestamp, action: "push", target: { digest, repository, tag }, … }
 * ```
 */
export async function normalizeHarbor(input: NotificationInput): Promise<Normalized> {
  const reader: Reader = new Reader("harbor");
  const mode = cloudEventMode(input);
  if (mode === "batch") reader.fail("", "CloudEvents batched mode is not supported");
  const root = reader.json(input.body);
  const envelope =
    mode === "structured" || Object.hasOwn(root, "specversion")
      ? readCloudEvent(reader, root)
      : readDefault(reader, root);
  const { cloudEventsType, data, dataPath } = envelope;
  const action = ACTIONS[cloudEventsType];
  const origin = {
    format: "harbor" as const,
    type: envelope.native,
    ...(envelope.sourceId !== undefined && { id: envelope.sourceId }),
  };

  const repositoryPath = child(dataPath, "repository");
  const repository = reader.optObject(data, "repository", dataPath);
  const namespace = reader.optString(repository, "namespace", repositoryPath);
  const name = reader.optString(repository, "name", repositoryPath);
  const fullName =
    reader.optString(repository, "repo_full_name", repositoryPath) ??
    (namespace && name ? `${namespace}/${name}` : undefined);

  const resourcesPath = child(dataPath, "resources");
  const listed =
    action === undefined
      ? data && reader.optArray(data, "resources", dataPath)
      : reader.array(data as Json, "resources", dataPath);
  const resources = reader.objects(listed ?? [], resourcesPath);

  const draft = (resource: Json | undefined, index: number): Draft => {
    const base = child(resourcesPath, index);
    const reference = parseReference(reader.optString(resource, "resource_url", base));
    const named = fullName ?? reference?.repository;
    if (named === undefined && action !== undefined) {
      reader.fail(child(repositoryPath, "repo_full_name"), "is required");
    }
    return {
      supported: action !== undefined,
      action: action ?? cloudEventsType,
      timestamp: envelope.timestamp,
      target: {
        digest: reader.optString(resource, "digest", base),
        repository: named ?? "harbor",
        tag: tagOnly(reader.optString(resource, "tag", base)),
      },
      request: { id: envelope.requestId, host: reference?.host },
      actor: envelope.operator,
      origin,
    };
  };
  // An event without resources (replication, retention, quota) is still one event.
  const drafts =
    resources.length === 0 && action === undefined
      ? [draft(undefined, 0)]
      : resources.map((resource, index) => draft(resource, index));
  return finish("harbor", idKey(envelope.sourceId, root), drafts);
}

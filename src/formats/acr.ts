// Azure Container Registry's webhooks (MicrosoftDocs, container-registry-webhook-reference.md):
// one event per request, no envelope, in distribution's own shape: `{id, timestamp, action,
// target: {mediaType, size, digest, length, repository, tag, name?, version?}, request: {id,
// host, method, useragent}}`. Actions: push, delete, chart_push, chart_delete (and quarantine).

import {
  EventActionDelete,
  EventActionMount,
  EventActionPull,
  EventActionPush,
} from "../event/constants.ts";
import { finish, idKey, unsupportedType } from "./build.ts";
import type { Normalized, NotificationInput } from "./model.ts";
import { Reader } from "./read.ts";

const ACTIONS: readonly string[] = [
  EventActionPush,
  EventActionPull,
  EventActionDelete,
  EventActionMount,
];

/**
 * Normalizes an ACR webhook into one distribution Event. `push` and `delete` (and distribution's
 * `pull` and `mount`, should ACR send them) keep their action; Helm chart events (`chart_push`,
 * `chart_delete`) and any other action go to `unsupported` as `dev.registryrelay.acr.<action>`.
 *
 * - `target`: `mediaType`, `size`, `digest`, `length`, `repository` and `tag`, as sent (a delete
 *   has no tag: ACR fires it for a manifest or repository, not a tag).
 * - `request`: `id`, `host` (the registry, e.g. `myregistry.azurecr.io`), `method`,
 *   `useragent`; `timestamp`: `timestamp` as sent; `actor.name`: `actor.name` if any (ACR's
 *   documented events have no actor).
 * - id: from ACR's `id`.
 *
 * @throws FormatError for a body that is not ACR's (not JSON, no `id`, `action`, RFC 3339
 *   `timestamp` or `target.repository`, a size that is not an integer…).
 * @example
 * ```ts
 * import { normalizeAcr } from "registry-relay/formats";
 * const { events } = await normalizeAcr({ body });
 * events[0]?.request?.host; // "myregistry.azurecr.io"
 * ```
 */
export async function normalizeAcr(input: NotificationInput): Promise<Normalized> {
  const reader: Reader = new Reader("acr");
  const root = reader.json(input.body);
  const sourceId = reader.string(root, "id", "");
  const native = reader.string(root, "action", "");
  const timestamp = reader.optTime(root, "timestamp", "");
  if (timestamp === undefined) reader.fail("timestamp", "is required");
  const supported = ACTIONS.includes(native);
  const target = reader.object(root, "target", "");
  const request = reader.optObject(root, "request", "");
  const draft = {
    supported,
    action: supported ? native : unsupportedType("acr", native),
    timestamp,
    target: {
      mediaType: reader.optString(target, "mediaType", "target"),
      size: reader.optCount(target, "size", "target"),
      digest: reader.optString(target, "digest", "target"),
      length: reader.optCount(target, "length", "target"),
      repository: supported
        ? reader.string(target, "repository", "target")
        : (reader.optString(target, "repository", "target") ?? "acr"),
      tag: reader.optString(target, "tag", "target"),
    },
    request: {
      id: reader.optString(request, "id", "request"),
      addr: reader.optString(request, "addr", "request"),
      host: reader.optString(request, "host", "request"),
      method: reader.optString(request, "method", "request"),
      useragent: reader.optString(request, "useragent", "request"),
    },
    actor: reader.optString(reader.optObject(root, "actor", ""), "name", "actor"),
    origin: { format: "acr" as const, type: native, id: sourceId },
  };
  return finish("acr", idKey(sourceId, root), [draft]);
}

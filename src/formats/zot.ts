// zot's events extension (project-zot/zot pkg/extensions/events): CloudEvents 1.0 over HTTP in
// binary mode (attributes in `Ce-*` headers, the body is the data; its NATS sink, and any proxy
// that re-frames, uses structured mode, read too). Types `zotregistry.image.updated|deleted`,
// `zotregistry.repository.created`, `zotregistry.image.lint_failed`, `zotregistry.image.scanned`
// (the `zotregistry` prefix is configurable); data `{name, reference, digest, mediaType,
// manifest?, actor?: {name}, request?: {addr, method, useragent}}`.

import { EventActionDelete, EventActionPush } from "../event/constants.ts";
import { child } from "../event/limits.ts";
import { finish, idKey, receivedTime, tagOnly } from "./build.ts";
import { binaryEvent, cloudEventMode, structuredEvent } from "./cloudevent-in.ts";
import type { Normalized, NotificationInput } from "./model.ts";
import { Reader } from "./read.ts";

/** The distribution action of a zot type, by its last two segments. */
function actionOf(type: string): string | undefined {
  if (type.endsWith(".image.updated")) return EventActionPush;
  if (type.endsWith(".image.deleted")) return EventActionDelete;
  return undefined;
}

/**
 * Normalizes a zot event (CloudEvents binary mode, or structured) into one distribution Event.
 * `…image.updated` is a `push`, `…image.deleted` a `delete`; `…repository.created`,
 * `…image.lint_failed` and `…image.scanned` go to `unsupported` with zot's type as `action`.
 *
 * - `target.repository`: `name`; `target.tag`: `reference` unless it is a digest;
 *   `target.digest`: `digest` (else a digest `reference`); `target.mediaType`: `mediaType`.
 * - `actor.name`: `actor.name`; `request`: `addr`, `method` and `useragent` of `request`. zot
 *   names no registry host (its `Ce-Source` is a fixed `zotregistry.dev`): no `request.host`.
 * - `timestamp`: `Ce-Time`, else `receivedAt` (else the time of the call); ids: from `Ce-Id`.
 *
 * @throws FormatError for a request that is not zot's (a missing `ce-id`, `ce-type` or
 *   `ce-source` header, a `ce-specversion` other than 1.0, a body that is not a JSON object, no
 *   `name` for an image event…).
 * @example
 * ```ts
 * import { normalizeZot } from "registry-relay/formats";
 * const { events } = await normalizeZot({ body, headers: request.headers });
 * events[0]?.action; // "push"
 * ```
 */
export async function normalizeZot(input: NotificationInput): Promise<Normalized> {
  const reader: Reader = new Reader("zot");
  const mode = cloudEventMode(input);
  if (mode === "batch") reader.fail("", "CloudEvents batched mode is not supported");
  const event =
    mode === "structured"
      ? structuredEvent(reader, reader.json(input.body))
      : binaryEvent(reader, input);
  const { data, dataPath: base } = event;
  const action = actionOf(event.type);
  const reference = reader.optString(data, "reference", base);
  const actor = reader.optObject(data, "actor", base);
  const request = reader.optObject(data, "request", base);
  const requestPath = child(base, "request");
  const draft = {
    supported: action !== undefined,
    action: action ?? event.type,
    timestamp: event.time ?? receivedTime(input),
    target: {
      mediaType: reader.optString(data, "mediaType", base),
      digest:
        reader.optString(data, "digest", base) ??
        (reference?.includes(":") ? reference : undefined),
      repository:
        action === undefined
          ? (reader.optString(data, "name", base) ?? "zot")
          : reader.string(data, "name", base),
      tag: tagOnly(reference),
    },
    request: {
      addr: reader.optString(request, "addr", requestPath),
      method: reader.optString(request, "method", requestPath),
      useragent: reader.optString(request, "useragent", requestPath),
    },
    actor: reader.optString(actor, "name", child(base, "actor")),
    origin: { format: "zot" as const, type: event.type, id: event.id },
  };
  return finish("zot", idKey(event.id, undefined), [draft]);
}

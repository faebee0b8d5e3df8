// Quay's webhook notifications (quay/quay notifications/notificationevent.py): the body is the
// event's data only: `repository` ("ns/name"), `namespace`, `name`, `docker_url`, `homepage`
// and the event's own keys. No event type, time, actor or digest is sent, so the kind of event
// is read from its keys.

import { EventActionPush } from "../event/constants.ts";
import {
  type Draft,
  finish,
  idKey,
  parseReference,
  receivedTime,
  unsupportedType,
} from "./build.ts";
import type { Normalized, NotificationInput } from "./model.ts";
import { type Json, Reader } from "./read.ts";

/**
 * Quay's event names, by a key only that event's data has. build_queued, build_start,
 * build_success and build_cancelled carry the same keys (`build`); so do the three
 * repo_mirror_sync_* events (`repo_mirror_sync`).
 */
function nativeType(root: Json): string {
  const has = (key: string) => Object.hasOwn(root, key);
  if (has("updated_tags")) return "repo_push";
  if (has("vulnerability") || has("vulnerabilities")) return "vulnerability_found";
  if (has("expiring_in")) return "repo_image_expiry";
  if (has("build_id")) return has("error_message") ? "build_failure" : "build";
  if (has("message")) return "repo_mirror_sync";
  return "notification";
}

/** How long identical Quay payloads count as one (resends) rather than pushes of their own. */
const quayWindowMs = 10 * 60_000;

/**
 * Normalizes a Quay notification into distribution Events. `repo_push` is one `push` per
 * `updated_tags` entry (one without a tag when none was updated); every other event (builds,
 * vulnerability_found, repo_image_expiry, mirror syncs) is one `unsupported` event with action
 * `dev.registryrelay.quay.<event>`.
 *
 * - `target.repository`: `repository`; `target.tag`: the updated tag; `request.host`: the host
 *   of `docker_url` (`quay.io/ns/name`). Quay sends no digest, media type, size or actor.
 * - `timestamp`: Quay sends no time: `receivedAt` (else the time of the call).
 * - ids: from the payload, the tag's position and the 10-minute window it was received in
 *   (`receivedAt`, else now). Quay sends no id and no time, so a later push of the same tags is
 *   the same body as a resend: a resend within the window is a duplicate, while a push in a later
 *   window is a new event (never lost; a resend that crosses a window's end is delivered twice).
 *
 * @throws FormatError for a body that is not Quay's (not JSON, no `repository` string,
 *   `updated_tags` not a list of tags…).
 * @example
 * ```ts
 * import { normalizeQuay } from "registry-relay/formats";
 * const { events } = await normalizeQuay({ body, receivedAt: new Date() });
 * events.map((event) => event.target.tag); // ["latest", "v1"]
 * ```
 */
export async function normalizeQuay(input: NotificationInput): Promise<Normalized> {
  const reader: Reader = new Reader("quay");
  const root = reader.json(input.body);
  const repository = reader.string(root, "repository", "");
  const host = parseReference(reader.optString(root, "docker_url", ""))?.host;
  const native = nativeType(root);
  const timestamp = receivedTime(input);
  const origin = { format: "quay" as const, type: native };
  const draft = (tag: string | undefined): Draft => ({
    supported: native === "repo_push",
    action: native === "repo_push" ? EventActionPush : unsupportedType("quay", native),
    timestamp,
    target: { repository, tag },
    request: { host },
    origin,
  });
  let drafts = [draft(undefined)];
  if (native === "repo_push") {
    const tags = reader.array(root, "updated_tags", "").map((tag, index) => {
      if (typeof tag !== "string" || tag === "") {
        reader.fail(`updated_tags[${index}]`, "must be a tag (a non-empty string)");
      }
      return tag;
    });
    if (tags.length > 0) drafts = tags.map(draft);
  }
  const window = Math.floor((input.receivedAt?.getTime() ?? Date.now()) / quayWindowMs);
  return finish("quay", `${idKey(undefined, root)}\nwindow:${window}`, drafts);
}

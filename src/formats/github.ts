// GitHub Packages webhooks (octokit/webhooks schemas): the `package` event and the older
// `registry_package`, whose actions are `published` and `updated`. Only container images (GHCR,
// and docker.pkg.github.com before it) have a distribution meaning; the event is named by the
// `X-GitHub-Event` header and each delivery by `X-GitHub-Delivery`.

import { EventActionPush } from "../event/constants.ts";
import { child } from "../event/limits.ts";
import {
  type Draft,
  finish,
  idKey,
  parseReference,
  receivedTime,
  unsupportedType,
} from "./build.ts";
import type { Normalized, NotificationInput } from "./model.ts";
import { header, type Json, Reader } from "./read.ts";

/** The events about packages, and their payload key for the package. */
const PACKAGE_EVENTS = ["package", "registry_package"];

/** GitHub's container ecosystems: `CONTAINER` (GHCR) and `docker` (docker.pkg.github.com). */
const isContainer = (value: string | undefined) =>
  value !== undefined && ["container", "docker"].includes(value.toLowerCase());

/** The first of `times` that is a real time: GitHub writes Go's zero time (year 1) for none. */
function firstTime(
  reader: Reader,
  times: [Json | undefined, string, string][],
): string | undefined {
  for (const [parent, key, base] of times) {
    const time = reader.optTime(parent, key, base);
    if (time !== undefined && !time.startsWith("0001-")) return time;
  }
  return undefined;
}

/**
 * Normalizes a GitHub `package` or `registry_package` webhook into distribution Events. A
 * container package `published` or `updated` is one `push`; any other package (npm, Maven…),
 * action or event (`ping` when the hook is created) goes to `unsupported` as
 * `dev.registryrelay.github.<event>_<action>`.
 *
 * - `target.repository` and `request.host`: the path and host of `package_version.package_url`
 *   (`ghcr.io/owner/name:tag`), else `package.namespace/package.name` without a host.
 * - `target.digest`, `mediaType` and `size`: `container_metadata.manifest` (the digest falls back
 *   to `container_metadata.tag.digest`); `target.tag`: `container_metadata.tag.name` when not
 *   empty.
 * - `timestamp`: the version's `updated_at` or `created_at`, else the package's (Go's zero time,
 *   which GitHub sends for none, is skipped); `actor.name`: `sender.login`.
 * - ids: from the payload (GitHub signs only the body, so a replay under a new
 *   `X-GitHub-Delivery` is still a duplicate; every real change has a new `updated_at`). The
 *   delivery GUID is kept as `origin.id`.
 *
 * @throws FormatError for a body that is not such a webhook (not JSON, no event header and no
 *   package in the body, a container package without a version, repository or time…).
 * @example
 * ```ts
 * import { normalizeGithub } from "registry-relay/formats";
 * const { events } = await normalizeGithub({ body, headers: request.headers });
 * events[0]?.target; // { mediaType, size, digest, repository: "octo/app", tag: "v1" }
 * ```
 */
export async function normalizeGithub(input: NotificationInput): Promise<Normalized> {
  const reader: Reader = new Reader("github");
  const root = reader.json(input.body);
  const named = header(input.headers, "x-github-event")?.trim();
  const event = named || PACKAGE_EVENTS.find((key) => Object.hasOwn(root, key));
  if (!event) {
    reader.fail('headers["x-github-event"]', "is required (the body has no package either)");
  }
  const delivery = header(input.headers, "x-github-delivery")?.trim() || undefined;
  const isPackage = PACKAGE_EVENTS.includes(event);
  const action = isPackage
    ? reader.string(root, "action", "")
    : reader.optString(root, "action", "");
  const native = action === undefined ? event : `${event}.${action}`;
  const pkg = isPackage ? reader.object(root, event, "") : undefined;
  const actor = reader.optString(reader.optObject(root, "sender", ""), "login", "sender");
  const origin = { format: "github" as const, type: native, ...(delivery && { id: delivery }) };
  const packageTimes: [Json | undefined, string, string][] = [
    [pkg, "updated_at", event],
    [pkg, "created_at", event],
  ];

  const container =
    pkg !== undefined &&
    (isContainer(reader.optString(pkg, "package_type", event)) ||
      isContainer(reader.optString(pkg, "ecosystem", event)));
  let draft: Draft;
  if (container && (action === "published" || action === "updated")) {
    const versionPath = child(event, "package_version");
    const version = reader.object(pkg, "package_version", event);
    const metadataPath = child(versionPath, "container_metadata");
    const manifestPath = child(metadataPath, "manifest");
    const tagPath = child(metadataPath, "tag");
    const metadata = reader.optObject(version, "container_metadata", versionPath);
    const manifest = reader.optObject(metadata, "manifest", metadataPath);
    const tag = reader.optObject(metadata, "tag", metadataPath);
    const reference = parseReference(reader.optString(version, "package_url", versionPath));
    const namespace = reader.optString(pkg, "namespace", event);
    const name = reader.optString(pkg, "name", event);
    const repository =
      reference?.repository ?? (namespace && name ? `${namespace}/${name}` : undefined);
    if (repository === undefined) reader.fail(child(versionPath, "package_url"), "is required");
    const timestamp = firstTime(reader, [
      [version, "updated_at", versionPath],
      [version, "created_at", versionPath],
      ...packageTimes,
    ]);
    if (timestamp === undefined) reader.fail(child(event, "updated_at"), "is required");
    draft = {
      supported: true,
      action: EventActionPush,
      timestamp,
      target: {
        mediaType: reader.optString(manifest, "media_type", manifestPath),
        size: reader.optCount(manifest, "size", manifestPath),
        digest:
          reader.optString(manifest, "digest", manifestPath) ??
          reader.optString(tag, "digest", tagPath),
        repository,
        tag: reader.optString(tag, "name", tagPath),
      },
      request: { host: reference?.host },
      actor,
      origin,
    };
  } else {
    const repository = reader.optObject(root, "repository", "");
    draft = {
      supported: false,
      action: unsupportedType("github", native),
      timestamp: firstTime(reader, packageTimes) ?? receivedTime(input),
      target: {
        repository: reader.optString(repository, "full_name", "repository") ?? "github",
      },
      actor,
      origin,
    };
  }
  return finish("github", idKey(undefined, root), [draft]);
}

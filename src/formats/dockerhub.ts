// Docker Hub's repository webhook (docker/docs, manage/webhooks.md): one kind of event, a push
// of a tag, `{callback_url, push_data: {pushed_at, pusher, tag}, repository: {repo_name, …}}`,
// with no digest, no media type and no event type field.

import { EventActionPush } from "../event/constants.ts";
import { finish, idKey } from "./build.ts";
import type { Normalized, NotificationInput } from "./model.ts";
import { Reader } from "./read.ts";

/**
 * The registry Docker Hub's webhooks are about: its API host, where `docker.io/<repo>` pulls
 * from. The payload only names the Hub's web host (`registry.hub.docker.com` in `repo_url`), so
 * every Docker Hub event carries this as `request.host`.
 *
 * @example
 * ```ts
 * import { DOCKER_HUB_REGISTRY_HOST } from "registry-relay/formats";
 * const image = `${DOCKER_HUB_REGISTRY_HOST}/${event.target.repository}:${event.target.tag}`;
 * ```
 */
export const DOCKER_HUB_REGISTRY_HOST = "registry-1.docker.io";

/**
 * Normalizes a Docker Hub push webhook into one distribution `push` Event.
 *
 * - `target.repository`: `repository.repo_name` (else `namespace/name`); `target.tag`:
 *   `push_data.tag`. Docker Hub sends no digest, media type or size.
 * - `timestamp`: `push_data.pushed_at` (Unix seconds); `actor.name`: `push_data.pusher`.
 * - `request.host`: `registry-1.docker.io` (`DOCKER_HUB_REGISTRY_HOST`): Docker Hub only ever
 *   notifies about its own registry.
 * - id: from the payload (Docker Hub sends no id), so a resend is a duplicate.
 *
 * @throws FormatError for a body that is not a Docker Hub push (not JSON, no `push_data`, no
 *   `push_data.tag` or `pushed_at`, no repository name…).
 * @example
 * ```ts
 * import { normalizeDockerHub } from "registry-relay/formats";
 * const { events } = await normalizeDockerHub({ body });
 * events[0]?.target; // { repository: "svendowideit/testhook", tag: "latest" }
 * ```
 */
export async function normalizeDockerHub(input: NotificationInput): Promise<Normalized> {
  const reader: Reader = new Reader("dockerhub");
  const root = reader.json(input.body);
  const push = reader.object(root, "push_data", "");
  const repository = reader.object(root, "repository", "");
  const namespace = reader.optString(repository, "namespace", "repository");
  const name = reader.optString(repository, "name", "repository");
  const repoName =
    reader.optString(repository, "repo_name", "repository") ??
    (namespace && name ? `${namespace}/${name}` : undefined);
  if (repoName === undefined) reader.fail("repository.repo_name", "is required");
  const draft = {
    supported: true,
    action: EventActionPush,
    timestamp: reader.unixSeconds(push, "pushed_at", "push_data"),
    target: { repository: repoName, tag: reader.string(push, "tag", "push_data") },
    request: { host: DOCKER_HUB_REGISTRY_HOST },
    actor: reader.optString(push, "pusher", "push_data"),
    origin: { format: "dockerhub" as const, type: "push" },
  };
  return finish("dockerhub", idKey(undefined, root), [draft]);
}

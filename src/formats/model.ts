// The input side of src/formats: which registry formats come in, what a request to normalize
// holds, what comes out (distribution Events, each with its `origin`), and the one error a
// malformed notification raises. The normalizers (one file per format) and normalize.ts build on
// these; src/event stays the model they normalize into.

import { issuesLine, onlySizeLimits } from "../event/limits.ts";
import type { Event } from "../event/schema.ts";

/**
 * Every notification format the core reads. `distribution` is distribution's own envelope (also
 * what GitLab's registry sends); the others are the webhooks of Harbor, GitHub Packages (GHCR),
 * Docker Hub, Quay, zot and Azure Container Registry.
 *
 * @example
 * ```ts
 * import { INPUT_FORMATS } from "registry-relay/formats";
 * INPUT_FORMATS.includes("harbor"); // true
 * ```
 */
export const INPUT_FORMATS = [
  "distribution",
  "harbor",
  "github",
  "dockerhub",
  "quay",
  "zot",
  "acr",
] as const;

/**
 * One of `INPUT_FORMATS`.
 *
 * @example
 * ```ts
 * import type { InputFormat } from "registry-relay/formats";
 * const format: InputFormat = "quay";
 * ```
 */
export type InputFormat = (typeof INPUT_FORMATS)[number];

/**
 * Whether `value` names an input format (say, the `{format}` of a route).
 *
 * @example
 * ```ts
 * import { isInputFormat } from "registry-relay/formats";
 * isInputFormat("harbor"); // true
 * isInputFormat("ecr"); // false
 * ```
 */
export function isInputFormat(value: unknown): value is InputFormat {
  return typeof value === "string" && (INPUT_FORMATS as readonly string[]).includes(value);
}

/**
 * Where a normalized event came from. Every Event built from a non-distribution notification
 * carries it as its top-level `origin` field (distribution events are left exactly as received,
 * without one). Consumers read it to tell the format and the source's own event type apart:
 *
 * - `format`: the input format.
 * - `type`: the source's own name for what happened: Harbor's `PUSH_ARTIFACT` (Default format)
 *   or `harbor.artifact.pushed` (its CloudEvents format), GitHub's `package.published` or
 *   `registry_package.updated` (`X-GitHub-Event` and the payload's `action`), Quay's
 *   `repo_push`, zot's CloudEvents type (`zotregistry.image.updated`), ACR's `action` (`push`)
 *   and Docker Hub's `push`.
 * - `id`: the source's own event or delivery id when it sends one (Harbor's CloudEvents `id`,
 *   `X-GitHub-Delivery`, zot's `Ce-Id`, ACR's `id`), for tracing a delivery back to the
 *   sender. The event's own `id` is derived from it (see `normalizeNotification`).
 *
 * Like any field distribution does not know, `origin` survives `parseEnvelope` and
 * `encodeEnvelope`, so it travels with the event through a relay.
 *
 * @example
 * ```ts
 * import type { Origin } from "registry-relay/formats";
 * const origin: Origin = { format: "harbor", type: "PUSH_ARTIFACT" };
 * ```
 */
export interface Origin {
  format: InputFormat;
  type: string;
  id?: string;
}

/**
 * The `origin` of an event when it has a well-formed one, else undefined (distribution events).
 *
 * @example
 * ```ts
 * import { normalizeNotification, originOf } from "registry-relay/formats";
 * const { events } = await normalizeNotification("quay", { body });
 * originOf(events[0]); // { format: "quay", type: "repo_push" }
 * ```
 */
export function originOf(event: object): Origin | undefined {
  const origin = (event as { origin?: unknown }).origin;
  if (typeof origin !== "object" || origin === null) return undefined;
  const { format, type, id } = origin as Record<string, unknown>;
  if (!isInputFormat(format) || typeof type !== "string") return undefined;
  return typeof id === "string" ? { format, type, id } : { format, type };
}

// The rule is the core's: the in-memory Endpoint routes with it without the formats.
export { isUnsupportedAction } from "../event/output.ts";

/**
 * A request's headers: a `Headers` (fetch, Hono's `c.req.raw.headers`) or a plain record such as
 * Node's `IncomingHttpHeaders`. Names are matched case-insensitively; list values are joined
 * with `", "`.
 *
 * @example
 * ```ts
 * import type { HeadersInput } from "registry-relay/formats";
 * const headers: HeadersInput = { "X-GitHub-Event": "package" };
 * ```
 */
export type HeadersInput =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One received notification, as `normalizeNotification` and each format's normalizer take it.
 *
 * - `body`: the request body as received (UTF-8 text or bytes).
 * - `headers`: the request headers. Harbor and zot are told apart by `Content-Type`
 *   (CloudEvents), zot's binary mode carries its attributes in `Ce-*` headers, GitHub names its
 *   event and delivery in `X-GitHub-Event` and `X-GitHub-Delivery`.
 * - `receivedAt`: when the notification arrived. It is the `timestamp` of events whose source
 *   gives no time of its own (Quay, GitHub events without one, zot without `Ce-Time`), and
 *   defaults to the time of the call. It is never part of an event's id.
 *
 * @example
 * ```ts
 * import type { NotificationInput } from "registry-relay/formats";
 * const input: NotificationInput = { body: await request.arrayBuffer(), headers: request.headers };
 * ```
 */
export interface NotificationInput {
  body: string | Uint8Array | ArrayBuffer;
  headers?: HeadersInput;
  receivedAt?: Date;
}

/**
 * What a notification normalizes to: distribution `Event`s, each with its `origin` (except
 * distribution's own), which pass the core's validation (`safeParseEnvelope({ events })`).
 *
 * - `events`: those with a distribution action (`push`, `pull`, `delete`, `mount`).
 * - `unsupported`: what the source reports that distribution has no action for (a Harbor scan,
 *   a Quay build, a zot lint failure, a GitHub event about an npm package…), shaped the same
 *   way, with the CloudEvents type to use for them as `action`: the source's own CloudEvents type
 *   where it has one (Harbor, zot), else `dev.registryrelay.<format>.<native type>` (lowercase,
 *   every character but `a-z0-9` as `_`). They are never errors.
 *
 * @example
 * ```ts
 * import { normalizeNotification, type Normalized } from "registry-relay/formats";
 * const { events, unsupported }: Normalized = await normalizeNotification("harbor", { body });
 * ```
 */
export interface Normalized {
  events: Event[];
  unsupported: Event[];
}

/**
 * One problem found in a notification: where (`push_data.tag`, `headers["ce-id"]`, `""` for the
 * body itself) and what is wrong (`is required`, `must be a string, not a number`…).
 *
 * @example
 * ```ts
 * import type { FormatIssue } from "registry-relay/formats";
 * const issue: FormatIssue = { path: "push_data.tag", message: "is required" };
 * ```
 */
export interface FormatIssue {
  path: string;
  message: string;
}

/**
 * Thrown for a notification that is not what its format sends: not JSON, a required field
 * missing, a field of the wrong type. `issues` name the field and the reason; the message
 * repeats them. For `distribution` they are `parseEnvelope`'s (the `EnvelopeError` is the
 * `cause`), and `tooLarge` is true when every issue is a size limit (answer 413 rather than 400).
 *
 * @example
 * ```ts
 * import { FormatError, normalizeNotification } from "registry-relay/formats";
 * try {
 *   const body = '{"push_data":{"pushed_at":1417566161},"repository":{"repo_name":"a/b"}}';
 *   await normalizeNotification("dockerhub", { body });
 * } catch (error) {
 *   if (error instanceof FormatError) console.log(error.message);
 *   // invalid dockerhub notification: push_data.tag: is required
 * }
 * ```
 */
export class FormatError extends Error {
  override readonly name = "FormatError";
  readonly format: InputFormat;
  readonly issues: FormatIssue[];
  readonly tooLarge: boolean;

  constructor(
    format: InputFormat,
    issues: FormatIssue[],
    options: { cause?: unknown; tooLarge?: boolean } = {},
  ) {
    super(
      `invalid ${format} notification: ${issuesLine(issues)}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.format = format;
    this.issues = issues;
    this.tooLarge = options.tooLarge ?? onlySizeLimits(issues);
  }
}

// One entry for every input format: distribution's envelope through the core's parser, unchanged,
// and each other registry's webhook through its normalizer (one file each). Importing a single
// normalizer instead keeps the others out of a bundle.

import { EnvelopeError, parseEnvelope } from "../event/parse.ts";
import { normalizeAcr } from "./acr.ts";
import { normalizeDockerHub } from "./dockerhub.ts";
import { normalizeGithub } from "./github.ts";
import { normalizeHarbor } from "./harbor.ts";
import {
  FormatError,
  INPUT_FORMATS,
  type InputFormat,
  isInputFormat,
  type Normalized,
  type NotificationInput,
} from "./model.ts";
import { normalizeQuay } from "./quay.ts";
import { normalizeZot } from "./zot.ts";

/**
 * Reads a distribution envelope (distribution, GitLab's registry, anything speaking
 * `application/vnd.docker.distribution.events.v1+json`) with `parseEnvelope`: its events are
 * returned exactly as parsed (no `origin`, ids and unknown fields kept), none as unsupported.
 *
 * @throws FormatError with `parseEnvelope`'s issues and `tooLarge`; the `EnvelopeError` is its
 *   `cause`.
 * @example
 * ```ts
 * import { normalizeDistribution } from "registry-relay/formats";
 * const { events } = await normalizeDistribution({ body: await request.arrayBuffer() });
 * ```
 */
export async function normalizeDistribution(input: NotificationInput): Promise<Normalized> {
  try {
    return { events: parseEnvelope(input.body).events, unsupported: [] };
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    throw new FormatError("distribution", error.issues, { cause: error });
  }
}

// The error and the types callers of normalizeNotification handle, from here too.
export { FormatError, type FormatIssue, type Normalized, type NotificationInput } from "./model.ts";

const normalizers: Record<InputFormat, (input: NotificationInput) => Promise<Normalized>> = {
  distribution: normalizeDistribution,
  harbor: normalizeHarbor,
  github: normalizeGithub,
  dockerhub: normalizeDockerHub,
  quay: normalizeQuay,
  zot: normalizeZot,
  acr: normalizeAcr,
};

/**
 * Normalizes one received notification of `format` into distribution Events (see `Normalized`):
 * what the registry did (`events`), and what it reported that distribution has no action for
 * (`unsupported`, never an error). Every event but distribution's own carries `origin`.
 *
 * Ids are deterministic, so a resend of the same notification gives the same ids (a relay counts
 * it as a duplicate): a UUID (version 8) from SHA-256 over the format, the source's own event or
 * delivery id when it sends one (Harbor's CloudEvents `id`, `X-GitHub-Delivery`, zot's `Ce-Id`,
 * ACR's `id`) or else the payload as canonical JSON (keys sorted, no spaces), and the event's
 * position in the payload. Never the time of receipt: a source without a time of its own (Quay)
 * gets `receivedAt` as `timestamp`, which the id does not depend on.
 *
 * @param format One of `INPUT_FORMATS`.
 * @param input The body as received (string, `Uint8Array` or `ArrayBuffer`), its headers (a
 *   `Headers` or a plain record) and optionally when it was received.
 * @throws FormatError naming the field and the reason when the body is not what `format` sends;
 *   TypeError for an unknown format.
 * @example
 * ```ts
 * import { FormatError, normalizeNotification } from "registry-relay/formats";
 * try {
 *   const { events, unsupported } = await normalizeNotification("harbor", {
 *     body: await request.arrayBuffer(),
 *     headers: request.headers,
 *   });
 *   for (const event of events) console.log(event.action, event.target.repository);
 * } catch (error) {
 *   if (error instanceof FormatError) console.log(error.issues); // [{ path, message }]
 * }
 * ```
 */
export function normalizeNotification(
  format: InputFormat,
  input: NotificationInput,
): Promise<Normalized> {
  if (!isInputFormat(format)) {
    throw new TypeError(
      `unknown notification format ${JSON.stringify(format)}: one of ${INPUT_FORMATS.join(", ")}`,
    );
  }
  return normalizers[format](input);
}

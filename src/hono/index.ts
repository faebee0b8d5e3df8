// registry-relay/hono: receive registry notifications in any Hono app (Deno, Bun, Node, Workers).
// The body is read raw and parsed with the core's parseEnvelope: Hono's json validator skips the
// registry's `application/vnd.docker.distribution.events.v1+json` and would see `{}`. Other
// registries' formats go through the core's adapters (src/formats) into the same events.
import type { Context, Env, MiddlewareHandler } from "hono";
import { EnvelopeError, parseEnvelope } from "../event/envelope.ts";
import type { Envelope, Event } from "../event/schema.ts";
import { FormatError, INPUT_FORMATS, type InputFormat, isInputFormat } from "../formats/model.ts";
import { normalizeNotification } from "../formats/normalize.ts";
import { verifyGitHubSignature } from "../webhooks/github.ts";
import { bearerToken, tokenMatcher } from "./auth.ts";
import { BodyTooLargeError, readBodyLimited } from "./body.ts";
import { errorResponse, refusal } from "./errors.ts";
import { envelopeMediaTypes, mediaTypeOf } from "./media.ts";

export { bearerToken, tokenMatcher } from "./auth.ts";
export type { ReadBodyOptions } from "./body.ts";
export { BodyTooLargeError, readBodyLimited } from "./body.ts";
export type { ErrorBody, ErrorIssue, ErrorResponseInit } from "./errors.ts";
export { errorBody, errorResponse } from "./errors.ts";
export { envelopeMediaTypes, mediaTypeOf } from "./media.ts";

/**
 * The default body limit: 1 MiB, far above any real envelope (one event is about 1 KiB).
 *
 * @example
 * ```ts
 * import { defaultMaxBodyBytes, receiveEnvelopes } from "registry-relay/hono";
 * receiveEnvelopes({ tokens, maxBodyBytes: 4 * defaultMaxBodyBytes, onEnvelope });
 * ```
 */
export const defaultMaxBodyBytes = 1024 * 1024;

/**
 * What {@link ReceiveEnvelopesOptions.onEnvelope} gets next to the envelope.
 *
 * @example
 * ```ts
 * import type { ReceivedEnvelope } from "registry-relay/hono";
 * const log = (info: ReceivedEnvelope) => console.log(info.mediaType, info.raw.byteLength);
 * ```
 */
export interface ReceivedEnvelope<E extends Env = Env> {
  /** The request's media type without parameters, e.g. `application/vnd.docker.distribution.events.v1+json`. */
  mediaType: string;
  /** The body exactly as received (for signatures, hashes or byte-exact forwarding). */
  raw: Uint8Array;
  /** The Hono context of the request. */
  c: Context<E>;
  /** The format the body came in (`options.format`). */
  format: InputFormat;
  /**
   * The source's events that have no distribution action (Harbor scans, Quay builds…), as
   * events whose `action` is their CloudEvents type; always empty for `distribution`.
   */
  unsupported: Event[];
}

/**
 * Options of {@link receiveEnvelopes}.
 *
 * @example
 * ```ts
 * import type { ReceiveEnvelopesOptions } from "registry-relay/hono";
 * const options: ReceiveEnvelopesOptions = {
 *   tokens: ["s3cret-token"],
 *   onEnvelope: (envelope) => console.log(envelope.events.length),
 * };
 * ```
 */
export interface ReceiveEnvelopesOptions<E extends Env = Env> {
  /** Accepted bearer tokens; each request is compared with all of them in constant time. */
  tokens?: readonly string[];
  /** Your own token check, consulted when no configured token matched (make it constant-time). */
  verifyToken?: (token: string, c: Context<E>) => boolean | Promise<boolean>;
  /**
   * Accept every request without checking a token. Only for a receiver with no `tokens` and no
   * `verifyToken` (without it, such a receiver refuses everything); combined with either, the
   * constructor throws a `TypeError`, since a missing `Authorization` header would then bypass
   * the tokens.
   */
  allowAnonymous?: boolean;
  /** Largest accepted body in bytes (default {@link defaultMaxBodyBytes}). */
  maxBodyBytes?: number;
  /**
   * How much of a refused body without `Content-Length` is read and discarded past the limit, so
   * that the connection can carry the next request (default 0; see
   * {@link ReadBodyOptions.drainBytes}). Set it when running under workerd or `wrangler dev`.
   */
  drainBytes?: number;
  /** The realm named in `WWW-Authenticate` (default `registry-relay`). */
  realm?: string;
  /**
   * The format of the bodies this route receives (default `distribution`): `harbor`, `github`,
   * `dockerhub`, `quay`, `zot` or `acr` bodies are normalized by the core's adapters
   * (`registry-relay/formats`) into distribution events.
   */
  format?: InputFormat;
  /**
   * Also accept the token as the `token` query parameter (`/events?token=…`), for senders that
   * cannot set headers (Docker Hub, Quay). The token is never echoed in a response.
   */
  queryToken?: boolean;
  /**
   * For `format: "github"`: the webhook secret. A valid `X-Hub-Signature-256` (HMAC-SHA256 of the
   * raw body, compared in constant time) is then required, and stands in for a token.
   */
  githubSecret?: string;
  /**
   * Called with each valid envelope. Return a Response to answer with it; otherwise the
   * receiver answers `202 {"accepted": <number of events>}`.
   */
  onEnvelope: (
    envelope: Envelope,
    info: ReceivedEnvelope<E>,
  ) => Response | undefined | Promise<Response | undefined> | void | Promise<void>;
}

function challenge(realm: string, error?: string): Record<string, string> {
  const suffix = error ? `, error="${error}"` : "";
  return { "www-authenticate": `Bearer realm="${realm}"${suffix}` };
}

/** The `Content-Encoding` codings of a request other than `identity` (none when absent). */
function encodingsOf(contentEncoding: string | undefined): string[] {
  return (contentEncoding ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
}

/**
 * A Hono handler that receives registry notification envelopes with the relay's rules, in this
 * order: bearer token (401 with `WWW-Authenticate`), content type (both wire lines or
 * `application/json`, else 415), content encoding (only `identity`, else 415 with
 * `Accept-Encoding: identity`), size (413 from `Content-Length` or while streaming), then
 * `parseEnvelope` (400 with `issues`, or 413 when an issue is a size limit). Every error is
 * `{"error":{"code","message","issues?"}}`.
 *
 * Another registry's `format` (Harbor, GitHub Packages, Docker Hub, Quay, zot, ACR) is taken as
 * any JSON media type and normalized by the core's adapters into distribution events (400
 * `invalid_notification` with `issues` naming the field); the default answer is then
 * `202 {"accepted", "unsupported"}`, `unsupported` counting the source's events that have no
 * distribution action (scans, builds), which `onEnvelope` gets in `info.unsupported`.
 * `queryToken` also takes the token from `?token=`; `githubSecret` requires GitHub's
 * `X-Hub-Signature-256` in place of a token (checked once the body is read).
 *
 * `allowAnonymous` with `tokens` or `verifyToken` is refused with a `TypeError`: anonymous access
 * is only for a receiver that has no way to check a token.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { receiveEnvelopes } from "registry-relay/hono";
 *
 * const app = new Hono();
 * app.post(
 *   "/events",
 *   receiveEnvelopes({
 *     tokens: [ingestToken], // e.g. read from your runtime's environment
 *     onEnvelope: (envelope) => {
 *       for (const event of envelope.events) console.log(event.action, event.target.repository);
 *     },
 *   }),
 * );
 * ```
 */
export function receiveEnvelopes<E extends Env = Env>(
  options: ReceiveEnvelopesOptions<E>,
): MiddlewareHandler<E> {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  }
  const drainBytes = options.drainBytes ?? 0;
  if (!Number.isSafeInteger(drainBytes) || drainBytes < 0) {
    throw new RangeError(`drainBytes must be a non-negative integer, got ${drainBytes}`);
  }
  const tokens = options.tokens ?? [];
  const matches = tokenMatcher(tokens);
  const { verifyToken, onEnvelope } = options;
  const allowAnonymous = options.allowAnonymous === true;
  const realm = options.realm ?? "registry-relay";
  const format = options.format ?? "distribution";
  if (!isInputFormat(format)) {
    throw new TypeError(`format must be one of ${INPUT_FORMATS.join(", ")}, got ${String(format)}`);
  }
  const { githubSecret } = options;
  if (githubSecret !== undefined && (format !== "github" || githubSecret === "")) {
    throw new TypeError('githubSecret needs format "github" and must be a non-empty string');
  }
  const canAuthenticate = tokens.length > 0 || verifyToken !== undefined;
  // Anonymous next to tokens would let a request without Authorization bypass them.
  if (allowAnonymous && canAuthenticate) {
    throw new TypeError(
      "allowAnonymous must not be true when tokens or verifyToken are configured: anonymous access is only for a receiver without tokens",
    );
  }

  const authenticate = async (c: Context<E>): Promise<Response | undefined> => {
    if (!canAuthenticate) {
      if (allowAnonymous) return undefined;
      return errorResponse(
        401,
        "unauthorized",
        "this receiver has no token configured and does not accept anonymous requests",
        { headers: challenge(realm) },
      );
    }
    // An empty header is treated as no header.
    const header = c.req.header("authorization")?.trim() || undefined;
    const fromQuery = options.queryToken && header === undefined ? c.req.query("token") : undefined;
    if (header === undefined && !fromQuery) {
      const ways = options.queryToken
        ? "Authorization: Bearer <token>, or ?token=<token>"
        : "Authorization: Bearer <token>";
      return errorResponse(401, "unauthorized", `a bearer token is required (${ways})`, {
        headers: challenge(realm),
      });
    }
    const token = fromQuery || bearerToken(header);
    if (token === undefined) {
      return errorResponse(401, "unauthorized", "the Authorization header must be Bearer <token>", {
        headers: challenge(realm, "invalid_request"),
      });
    }
    const valid = (await matches(token)) || (verifyToken ? await verifyToken(token, c) : false);
    if (valid) return undefined;
    return errorResponse(401, "unauthorized", "the bearer token is not valid", {
      headers: challenge(realm, "invalid_token"),
    });
  };

  // GitHub signs its deliveries: with the secret, the signature is the credential.
  const signed = githubSecret !== undefined;

  return async (c) => {
    const refused = signed ? undefined : await authenticate(c);
    if (refused) return refused;

    const mediaType = mediaTypeOf(c.req.header("content-type"));
    if (format !== "distribution") {
      // Every other registry posts JSON (Harbor's CloudEvents as application/cloudevents+json).
      if (
        mediaType === undefined ||
        !(mediaType === "application/json" || mediaType.endsWith("+json"))
      ) {
        return errorResponse(
          415,
          "unsupported_media_type",
          `Content-Type must be application/json (or another JSON media type) for ${format} notifications`,
        );
      }
    } else if (mediaType === undefined || !envelopeMediaTypes.includes(mediaType)) {
      return errorResponse(
        415,
        "unsupported_media_type",
        `Content-Type must be one of ${envelopeMediaTypes.join(", ")}`,
      );
    }

    const encodings = encodingsOf(c.req.header("content-encoding"));
    if (encodings.length > 0) {
      return errorResponse(
        415,
        "unsupported_content_encoding",
        `Content-Encoding ${JSON.stringify(encodings.join(", ").slice(0, 100))} is not supported: send the body uncompressed (identity)`,
        { headers: { "accept-encoding": "identity" } },
      );
    }

    let raw: Uint8Array;
    try {
      raw = await readBodyLimited(c.req.raw, maxBodyBytes, { drainBytes });
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return errorResponse(413, "payload_too_large", error.message);
      }
      throw error;
    }

    if (
      signed &&
      !(await verifyGitHubSignature(githubSecret, raw, c.req.header("x-hub-signature-256")))
    ) {
      return errorResponse(
        401,
        "unauthorized",
        "X-Hub-Signature-256 is missing or does not match the body (HMAC-SHA256 under the webhook secret)",
      );
    }

    // Distribution's envelope is parsed as it is (its other root fields kept for onEnvelope);
    // every other format goes through its adapter. Either way a size limit is 413, not 400.
    let envelope: Envelope;
    let unsupported: Event[] = [];
    try {
      if (format === "distribution") envelope = parseEnvelope(raw);
      else {
        const input = { body: raw, headers: c.req.raw.headers, receivedAt: new Date() };
        ({ unsupported, ...envelope } = await normalizeNotification(format, input));
      }
    } catch (error) {
      if (!(error instanceof EnvelopeError || error instanceof FormatError)) throw error;
      return refusal(format, error);
    }

    const answer = await onEnvelope(envelope, { mediaType, raw, c, format, unsupported });
    if (answer) return answer;
    const { length: accepted } = envelope.events;
    return format === "distribution"
      ? c.json({ accepted }, 202)
      : c.json({ accepted, unsupported: unsupported.length }, 202);
  };
}

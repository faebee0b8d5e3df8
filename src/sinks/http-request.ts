// What every POST of an HttpSink carries besides its body, built and checked once: the URL,
// configured headers and Basic auth; the Standard Webhooks message id of signed POSTs; and the
// values kept out of every message about it.

import { secretBytes, toBase64 } from "../webhooks/hmac.ts";
import {
  describe,
  HttpTransportError,
  maskValues,
  redactUrl,
  sensitiveValues,
} from "./http-errors.ts";

/**
 * Extra request headers: a `Headers`, or a record of one value or a list of values per name
 * (distribution's `headers: { Authorization: [Bearer <token>] }`). Values are appended, so a
 * list sends the header once per value, as Go's `Header.Add` does.
 *
 * @example
 * ```ts
 * import type { HttpHeaders } from "registry-relay";
 * const headers: HttpHeaders = { Authorization: "Bearer s3cr3t", "X-Team": ["a", "b"] };
 * ```
 */
export type HttpHeaders = Headers | Readonly<Record<string, string | readonly string[]>>;

/** An HTTP token: what a header name may be (also checked by the endpoint configuration). */
export const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** One request header as fetch takes it (a list of pairs keeps repeated names). */
export type HeaderPair = [name: string, value: string];
/**
 * Event ids sent as they are in `webhook-id`: ASCII letters, digits and `_-:+/=@~`, 1–256 long.
 * No `.` (the signed content is `id.timestamp.body`), nothing a header value cannot carry.
 */
const safeMessageId = /^[\w:+/=@~-]{1,256}$/;

/**
 * Configured headers as (name, value) pairs, validated without ever echoing a value: printable
 * ASCII and tab only (runtimes disagree on anything else: browsers and Node refuse what is above
 * U+00FF at every POST, workerd sends it as UTF-8 and logs the value).
 */
function headerPairs(headers: HttpHeaders = {}): HeaderPair[] {
  const pairs =
    headers instanceof Headers
      ? [...headers]
      : Object.entries(headers).flatMap(([name, values]) =>
          [values].flat().map((value): HeaderPair => [name, value]),
        );
  for (const [name, value] of pairs) {
    if (!token.test(name)) {
      throw new TypeError(`httpSink: header name ${JSON.stringify(name)} is not a valid token`);
    }
    if (typeof value !== "string" || !/^[\t\x20-\x7e]*$/.test(value)) {
      throw new TypeError(`httpSink: header ${name}: value must be printable ASCII`);
    }
  }
  return pairs;
}

/** Catches a bad secret at construction (the check signing makes): later it would fail every attempt. */
export function checkSecrets(secret: string | readonly string[] | undefined) {
  if (secret === undefined) return secret;
  const list = typeof secret === "string" ? [secret] : [...secret];
  if (list.length === 0) throw new TypeError("httpSink: secret must not be an empty list");
  list.forEach((value, index) => {
    if (!(typeof value === "string" && secretBytes(value)?.length)) {
      const at = typeof secret === "string" ? "" : `[${index}]`;
      throw new TypeError(`httpSink: secret${at} must be whsec_ followed by base64`);
    }
  });
  return secret;
}

const utf8 = /* @__PURE__ */ new TextEncoder();

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (byte) => (byte + 256).toString(16).slice(1)).join("");

/**
 * The Standard Webhooks message id of one POST: the event id for a single event when it is a
 * safe token (stable across retries: the receiver's idempotency key), else `evt_` or `batch_` and
 * the first 32 hex digits of the SHA-256 of the id, or of the ids as JSON (ids may contain any
 * separator), equally stable. An id from event content never makes the request unsendable.
 */
export async function messageId(events: readonly { id: unknown }[]): Promise<string> {
  const single = events.length === 1;
  const only = single ? events[0]?.id : undefined;
  if (typeof only === "string" && safeMessageId.test(only)) return only;
  const ids = typeof only === "string" ? only : JSON.stringify(events.map((event) => event.id));
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(ids));
  return `${single ? "evt" : "batch"}_${hex(new Uint8Array(digest, 0, 16))}`;
}

/** What an HttpSink sends with every POST and must keep out of messages, built once. */
export interface RequestSetup {
  /** The URL POSTed to: without userinfo (sent as Basic auth) and fragment. */
  target: string;
  /** The URL as shown ({@link redactUrl}). */
  redacted: string;
  /** The configured headers, checked. */
  headers: HeaderPair[];
  /** Every POST's headers: content type, configured headers, Basic auth. */
  requestHeaders: HeaderPair[];
  /** `requestHeaders` without the names signing sets (it replaces them, as `Headers.set`). */
  unsignedHeaders: HeaderPair[];
  /** `text` with the URL redacted and every {@link sensitiveValues} value masked. */
  scrub(text: string): string;
}

/** The request parts of a sink POSTing to `url` (changed: its userinfo and fragment removed). */
export function requestSetup(
  url: URL,
  configured: HttpHeaders | undefined,
  secret: string | readonly string[] | undefined,
  mediaType: string,
): RequestSetup {
  const original = url.href;
  const redacted = redactUrl(url);
  const headers = headerPairs(configured);
  const sensitive = sensitiveValues({ url: original, headers, secret });
  const basic = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = url.password = url.hash = "";
  const target = url.href;
  // As `new Headers({ "content-type" })` + `append` per pair, as pairs: built once, and cheaper
  // for fetch to take than a `Headers` or a record.
  const requestHeaders: HeaderPair[] = [["content-type", mediaType], ...headers];
  // fetch refuses URLs with credentials; Go turns them into Basic auth, and so do we.
  if (basic !== ":" && !headers.some(([name]) => /^authorization$/i.test(name))) {
    requestHeaders.push(["authorization", `Basic ${toBase64(utf8.encode(basic))}`]);
  }
  return {
    target,
    redacted,
    headers,
    requestHeaders,
    unsignedHeaders: requestHeaders.filter(
      ([name]) => !/^webhook-(id|timestamp|signature)$/i.test(name),
    ),
    scrub: (text) =>
      maskValues(text.replaceAll(original, redacted).replaceAll(target, redacted), sensitive),
  };
}

/**
 * The error of a POST that got no status: a timeout (`timeout` ms, when it was one), or the
 * runtime's error, its text (and cause, if need be) scrubbed.
 */
export function transportError(
  error: unknown,
  sink: string,
  timeout: number | false,
  request: RequestSetup,
): HttpTransportError {
  if (timeout !== false) {
    return new HttpTransportError(`timeout after ${timeout}ms`, {
      sink,
      cause: error,
      timedOut: true,
    });
  }
  const detail = describe(error);
  const scrubbed = request.scrub(detail);
  // Some runtimes put the request URL (with its query) into messages: keep those out.
  const cause =
    scrubbed === detail
      ? error
      : Object.assign(new Error(scrubbed), {
          name: error instanceof Error ? error.name : "Error",
        });
  return new HttpTransportError(scrubbed, { sink, cause });
}

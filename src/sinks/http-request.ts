// What every POST of an HttpSink carries besides its body, built and checked once: the URL,
// configured headers and Basic auth; the Standard Webhooks message id of signed POSTs; and the
// values kept out of every message about it.

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

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** One request header as fetch takes it (a list of pairs keeps repeated names). */
export type HeaderPair = [name: string, value: string];
/** What `signWebhook` returns: set on every signed POST, replacing configured values. */
const signedHeaderNames = new Set(["webhook-id", "webhook-timestamp", "webhook-signature"]);
/**
 * Event ids sent as they are in `webhook-id`: ASCII letters, digits and `_-:+/=@~`, 1–256 long.
 * No `.` (the signed content is `id.timestamp.body`), nothing a header value cannot carry.
 */
const safeMessageId = /^[\w:+/=@~-]{1,256}$/;
/** What a configured header value may hold: printable ASCII and tab. */
const headerValue = /^[\t\x20-\x7e]*$/;
/** What a signature header value may hold (printable ASCII), checked before every POST. */
export const printable = /^[\x20-\x7e]+$/;

/** Configured headers as (name, value) pairs, validated without ever echoing a value. */
function headerPairs(headers: HttpHeaders | undefined): [string, string][] {
  if (headers === undefined) return [];
  const pairs: [string, string][] =
    headers instanceof Headers
      ? [...headers.entries()]
      : Object.entries(headers).flatMap(([name, values]) =>
          (typeof values === "string" ? [values] : [...values]).map((value): [string, string] => [
            name,
            value,
          ]),
        );
  for (const [name, value] of pairs) {
    if (!token.test(name))
      throw new TypeError(`httpSink: header name ${JSON.stringify(name)} is not a valid token`);
    // Printable ASCII only: runtimes disagree on anything else (browsers and Node refuse what is
    // above U+00FF at every POST, workerd sends it as UTF-8 and logs the value). The runtime's
    // own check runs too, once, here.
    let valid = typeof value === "string" && headerValue.test(value);
    try {
      if (valid) new Headers().append(name, value);
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new TypeError(
        `httpSink: header ${name}: value must be printable ASCII (no CR, LF, NUL or other control character)`,
      );
    }
  }
  return pairs;
}

/** Catches a bad secret at construction: at write time it would fail every attempt. */
export function checkSecrets(secret: string | readonly string[] | undefined) {
  if (secret === undefined) return undefined;
  const list = typeof secret === "string" ? [secret] : [...secret];
  if (list.length === 0) throw new TypeError("httpSink: secret must not be an empty list");
  list.forEach((value, index) => {
    const key = typeof value === "string" ? value.replace(/^whsec_/, "") : "";
    let valid = key.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(key);
    try {
      if (valid) atob(key);
    } catch {
      valid = false;
    }
    if (!valid) {
      const at = typeof secret === "string" ? "" : `[${index}]`;
      throw new TypeError(`httpSink: secret${at} must be whsec_ followed by base64`);
    }
  });
  return secret;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const utf8 = /* @__PURE__ */ new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The Standard Webhooks message id of one POST: the event id for a single event when it is a
 * safe token (stable across retries: the receiver's idempotency key), else a digest of the event
 * ids, equally stable. An id from event content never makes the request unsendable.
 */
export async function messageId(events: readonly { id: unknown }[]): Promise<string> {
  const only = events.length === 1 ? events[0]?.id : undefined;
  if (typeof only === "string" && safeMessageId.test(only)) return only;
  // JSON keeps the list unambiguous: ids may contain any separator.
  const ids = utf8.encode(
    typeof only === "string" ? only : JSON.stringify(events.map((event) => event.id)),
  );
  const digest = hex(await crypto.subtle.digest("SHA-256", ids));
  return `${events.length === 1 ? "evt" : "batch"}_${digest.slice(0, 32)}`;
}

/** What an HttpSink sends with every POST and must keep out of messages, built once. */
export interface RequestSetup {
  /** The URL POSTed to: without userinfo (sent as Basic auth) and fragment. */
  target: string;
  /** The URL as given, and as shown ({@link redactUrl}). */
  original: string;
  redacted: string;
  /** The configured headers, checked. */
  headers: HeaderPair[];
  /** Every POST's headers: content type, configured headers, Basic auth. */
  requestHeaders: HeaderPair[];
  /** `requestHeaders` without the names signing sets (it replaces them). */
  unsignedHeaders: HeaderPair[];
  /** Values masked in messages ({@link sensitiveValues}). */
  sensitive: string[];
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
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  url.hash = "";
  const sensitive = sensitiveValues({ url: original, headers, secret });
  // The appends `new Headers({ "content-type" })` + `append` per pair would make, as pairs:
  // built once, and cheaper for fetch to take than a `Headers` or a record.
  const requestHeaders: HeaderPair[] = [["content-type", mediaType], ...headers];
  const hasAuthorization = headers.some(([name]) => name.toLowerCase() === "authorization");
  // fetch refuses URLs with credentials; Go turns them into Basic auth, and so do we.
  if ((user || password) && !hasAuthorization) {
    const basic = base64(utf8.encode(`${user}:${password}`));
    requestHeaders.push(["authorization", `Basic ${basic}`]);
  }
  const unsignedHeaders = requestHeaders.filter(
    ([name]) => !signedHeaderNames.has(name.toLowerCase()),
  );
  return {
    target: url.href,
    original,
    redacted,
    headers,
    requestHeaders,
    unsignedHeaders,
    sensitive,
  };
}

/** `text` with the sink's URL redacted and every value of {@link RequestSetup.sensitive} masked. */
export function scrub(text: string, request: RequestSetup): string {
  let clean = text.split(request.original).join(request.redacted);
  clean = clean.split(request.target).join(request.redacted);
  return maskValues(clean, request.sensitive);
}

/** The error of a POST that got no status, its text (and cause, if need be) scrubbed. */
export function transportError(
  error: unknown,
  options: { sink: string; timedOut: boolean; timeout: number; request: RequestSetup },
): HttpTransportError {
  const { sink, timedOut } = options;
  if (timedOut) {
    return new HttpTransportError(`timeout after ${options.timeout}ms`, {
      sink,
      cause: error,
      timedOut,
    });
  }
  const detail = describe(error);
  const scrubbed = scrub(detail, options.request);
  // Some runtimes put the request URL (with its query) into messages: keep those out.
  const cause =
    scrubbed === detail
      ? error
      : Object.assign(new Error(scrubbed), {
          name: error instanceof Error ? error.name : "Error",
        });
  return new HttpTransportError(scrubbed, { sink, cause });
}

// What every POST of an HttpSink carries besides its body: the configured headers, checked once,
// and the Standard Webhooks message id of signed POSTs.

import { encoder } from "../webhooks/hmac.ts";

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
export const token = /^[\w!#$%&'*+.^`|~-]+$/;
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
export function headerPairs(headers: HttpHeaders = {}): HeaderPair[] {
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
    if (typeof value !== "string" || !/^[\t -~]*$/.test(value)) {
      throw new TypeError(`httpSink: header ${name}: value must be printable ASCII`);
    }
  }
  return pairs;
}

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
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(ids));
  let id = single ? "evt_" : "batch_";
  for (const byte of new Uint8Array(digest, 0, 16)) id += (byte + 256).toString(16).slice(1);
  return id;
}

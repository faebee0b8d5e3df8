// What signing and verifying share: secrets to keys, the signed content and its HMAC-SHA256,
// base64, constant-time comparison. Bodies are signed as the exact bytes sent: re-serialising
// JSON or re-decoding bytes as UTF-8 would break signatures.

/**
 * A Standard Webhooks secret: `whsec_<base64>` or the bare base64 key (24–64 random bytes).
 *
 * @example
 * ```ts
 * import type { WebhookSecret } from "registry-relay";
 * const secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
 * ```
 */
export type WebhookSecret = string;

/**
 * A body, signed byte for byte: strings are UTF-8 encoded, bytes are taken as they are.
 *
 * @example
 * ```ts
 * import type { WebhookBody } from "registry-relay";
 * const body: WebhookBody = await request.arrayBuffer();
 * ```
 */
export type WebhookBody = string | Uint8Array | ArrayBuffer;

/** The one UTF-8 encoder of signing, verifying and the HTTP sink (bundles share it). */
export const encoder = /* @__PURE__ */ new TextEncoder();

/**
 * Compares two byte strings in time that depends only on their lengths, never on where they
 * differ. Strings are compared as their UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "registry-relay";
 * timingSafeEqual("v1,abc", "v1,abc"); // true
 * timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])); // false
 * ```
 */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  return equal(bytes(a), bytes(b));
}

const bytes = (x: Uint8Array | string) => (typeof x === "string" ? encoder.encode(x) : x);

/** {@link timingSafeEqual} of bytes. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  // Lengths are not secret (an HMAC is always 32 bytes), but fold them in anyway; the loop runs
  // over every byte of `a` with no early exit (past the end of `b`, `b[i]` reads as 0).
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return !difference;
}

/**
 * A secret's raw key and, once needed, its Web Crypto key and the synchronous HMAC's key schedule
 * (hmac-sync.ts: the states after the inner and outer key blocks).
 */
export type HmacKey = [
  raw: Uint8Array<ArrayBuffer>,
  subtle?: CryptoKey,
  inner?: Int32Array,
  outer?: Int32Array,
];

// Decoding a secret and deriving its key schedule costs about a fifth of verifying 1 KB, and
// receivers verify with the same few secrets over and over. Cleared when full, so a caller
// cycling through secrets cannot grow it forever. Keys are derived only from the secret itself,
// so a hit changes no result.
const keyCache = /* @__PURE__ */ new Map<unknown, HmacKey>();

/**
 * The keys of one secret or a non-empty list; throws `fail(message)` for an unusable one, naming
 * which (`secret[1]`) but never showing it.
 */
export function secretKeys(
  secret: WebhookSecret | readonly WebhookSecret[],
  fail: (message: string) => Error,
): HmacKey[] {
  // Not `[secret].flat()`: ten times slower.
  const list: readonly WebhookSecret[] = Array.isArray(secret) ? secret : [secret];
  // An empty list is a missing secret: `secret[0]`.
  return (list[0] === undefined ? [""] : list).map((text, index) => {
    let key = keyCache.get(text);
    if (!key) {
      const raw = fromBase64(text, /^whsec_/);
      if (!raw?.length) {
        throw fail(`secret${list === secret ? `[${index}]` : ""} must be (whsec_) base64`);
      }
      if (keyCache.size > 15) keyCache.clear();
      key = [raw];
      keyCache.set(text, key);
    }
    return key;
  });
}

/** The raw key of a secret, `whsec_` prefix optional; `undefined` unless it is base64. */
export const secretBytes = (secret: string): Uint8Array<ArrayBuffer> | undefined =>
  fromBase64(secret, /^whsec_/);

/** Standard base64, padding optional (after removing `prefix`); `undefined` for anything else. */
export function fromBase64(text: string, prefix?: RegExp): Uint8Array<ArrayBuffer> | undefined {
  try {
    if (prefix) text = text.replace(prefix, "");
    // atob is forgiving only about ASCII whitespace; it throws on anything else not base64.
    if (!/\s/.test(text)) {
      const binary = atob(text);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return bytes;
    }
  } catch {}
}

/** The bytes Standard Webhooks signs: `id.timestamp.body`, the body byte for byte. */
export function signedContent(id: string, timestamp: number, body: WebhookBody): Uint8Array {
  const view = (typeof body === "string" ? encoder.encode(body) : body) as Uint8Array;
  // Duck-typed rather than instanceof: the buffer may come from another realm.
  if (!(view?.byteLength >= 0)) throw new TypeError("body must be a string or bytes");
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + view.byteLength);
  content.set(prefix);
  content.set(new Uint8Array(view.buffer ?? view, view.byteOffset, view.byteLength), prefix.length);
  return content;
}

/**
 * The HMAC-SHA256 (RFC 2104) of `content` under `key`, by Web Crypto. Verifying small bodies
 * takes the synchronous path instead (hmac-sync.ts): a sender waits on the network anyway, and
 * its bundle then has no SHA-256 of its own.
 */
export async function subtleHmac(key: HmacKey, content: Uint8Array): Promise<Uint8Array> {
  // Imported once per cached key; a failed import leaves nothing behind.
  key[1] ??= await crypto.subtle.importKey(
    "raw",
    key[0],
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key[1], content as Uint8Array<ArrayBuffer>),
  );
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

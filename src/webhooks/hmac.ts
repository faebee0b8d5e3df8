// What signing and verifying share: secrets to HMAC-SHA256 keys, the signed content, base64.
// Bodies are signed as the exact bytes sent: re-serialising JSON or re-decoding bytes as UTF-8
// would break signatures.

import { hmacPads, hmacSha256 } from "./sha256.ts";

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

const encoder = /* @__PURE__ */ new TextEncoder();

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
  const left = typeof a === "string" ? encoder.encode(a) : a;
  const right = typeof b === "string" ? encoder.encode(b) : b;
  const length = Math.max(left.length, right.length);
  // Lengths are not secret (an HMAC is always 32 bytes), but fold them in anyway so the loop
  // below runs over every byte with no early exit.
  let difference = left.length ^ right.length;
  for (let i = 0; i < length; i++) {
    difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  }
  return difference === 0;
}

/** One secret's key: its raw bytes, the sync HMAC schedule, and the Web Crypto key once needed. */
export interface HmacKey {
  readonly raw: Uint8Array<ArrayBuffer>;
  readonly pads: Int32Array;
  subtle?: Promise<CryptoKey>;
}

/** The keys of one secret or a list; `fail(reason)` makes the error for an unusable secret. */
export function importKeys(
  secret: WebhookSecret | readonly WebhookSecret[],
  fail: (reason: string) => Error,
): HmacKey[] {
  const list: unknown = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string")) {
    throw fail("secret must be a non-empty string or array of strings");
  }
  const keys: HmacKey[] = [];
  for (let index = 0; index < list.length; index++) {
    const key = hmacKey(list[index] as string);
    if (key === undefined) {
      throw fail(`secret${list.length > 1 ? `[${index}]` : ""} is not valid base64`);
    }
    keys.push(key);
  }
  return keys;
}

/** The raw key of a secret, `whsec_` prefix optional; `undefined` unless it is base64. */
export const secretBytes = (secret: string): Uint8Array<ArrayBuffer> | undefined =>
  fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);

// Decoding a secret and deriving its key costs about as much as a small HMAC; receivers verify
// with the same few secrets over and over. Bounded so a caller cycling through secrets cannot
// grow it forever. Keys are derived only from the secret itself, so a hit changes no result.
const keyCacheLimit = 16;
const keyCache = new Map<string, HmacKey>();

function hmacKey(secret: string): HmacKey | undefined {
  const cached = keyCache.get(secret);
  if (cached !== undefined) return cached;
  const raw = secretBytes(secret);
  if (raw === undefined || raw.length === 0) return undefined;
  const key: HmacKey = { raw, pads: hmacPads(raw) };
  if (keyCache.size >= keyCacheLimit) {
    const oldest = keyCache.keys().next().value;
    if (oldest !== undefined) keyCache.delete(oldest);
  }
  keyCache.set(secret, key);
  return key;
}

/**
 * The largest unix time in seconds accepted from a caller (year 5138). Any time in
 * milliseconds since 1973 is above it, so `Date.now()` passed as seconds is caught.
 */
export const maxSeconds = 1e11;

/** `id.timestamp.body`, the bytes Standard Webhooks signs. */
export function signedContent(
  id: string,
  timestamp: number,
  body: WebhookBody,
  caller: string,
): Uint8Array<ArrayBuffer> {
  const bytes = bodyBytes(body, caller);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + bytes.length);
  content.set(prefix, 0);
  content.set(bytes, prefix.length);
  return content;
}

function bodyBytes(body: WebhookBody, caller: string): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // Tag check rather than instanceof: the buffer may come from another realm.
  if (Object.prototype.toString.call(body) === "[object ArrayBuffer]") {
    return new Uint8Array(body as ArrayBuffer);
  }
  throw new TypeError(`${caller}: body must be a string, Uint8Array or ArrayBuffer`);
}

// Up to this many signed bytes, hashing in JavaScript beats the async Web Crypto hand-off.
const syncLimit = 8 * 1024;

/** HMAC-SHA256 of `content`: synchronous for small content, Web Crypto for large. */
export function hmac(
  key: HmacKey,
  content: Uint8Array<ArrayBuffer>,
): Uint8Array | Promise<Uint8Array> {
  if (content.length <= syncLimit) return hmacSha256(key.pads, content);
  return subtleHmac(key, content);
}

async function subtleHmac(key: HmacKey, content: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  key.subtle ??= crypto.subtle.importKey("raw", key.raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  try {
    return new Uint8Array(await crypto.subtle.sign("HMAC", await key.subtle, content));
  } catch (error) {
    // A failed import must not poison the cached key.
    key.subtle = undefined;
    throw error;
  }
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Standard base64, padding optional; `undefined` for anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!base64Pattern.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

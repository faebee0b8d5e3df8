// Standard Webhooks (https://www.standardwebhooks.com) signing and verification with Web Crypto
// only, so the same code runs in browsers, Deno, Bun, Node and Workers. Bodies are signed as the
// exact bytes sent: re-serialising JSON or re-decoding bytes as UTF-8 would break signatures.

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

/**
 * The three Standard Webhooks request headers. A type alias, not an interface, so it is
 * assignable to `Record<string, string>` (spread it into `fetch` headers or pass it back to
 * {@link verifyWebhook}).
 *
 * @example
 * ```ts
 * import { signWebhook, type WebhookHeaders } from "registry-relay";
 * const headers: WebhookHeaders = await signWebhook({ secret, id: "msg_1", timestamp: new Date(), body });
 * await fetch(url, { method: "POST", headers: { ...headers }, body });
 * ```
 */
export type WebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/**
 * Why {@link verifyWebhook} rejected a request. `invalid-secret` is a configuration error (an
 * empty or non-base64 secret); the others are the request's fault.
 *
 * @example
 * ```ts
 * import type { WebhookVerificationReason } from "registry-relay";
 * const status = (reason: WebhookVerificationReason) => (reason === "invalid-secret" ? 500 : 401);
 * ```
 */
export type WebhookVerificationReason =
  | "missing-header"
  | "invalid-timestamp"
  | "timestamp-too-old"
  | "timestamp-too-new"
  | "no-matching-signature"
  | "invalid-secret";

/**
 * The rejection of {@link verifyWebhook}. `reason` is a stable code for callers to branch on;
 * the message is for humans and never contains a secret or a signature.
 *
 * @example
 * ```ts
 * import { verifyWebhook, WebhookVerificationError } from "registry-relay";
 * try {
 *   await verifyWebhook({ secret, headers: request.headers, body });
 * } catch (error) {
 *   if (error instanceof WebhookVerificationError) return new Response(error.reason, { status: 401 });
 *   throw error;
 * }
 * ```
 */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Options of {@link signWebhook}.
 *
 * @example
 * ```ts
 * import type { SignWebhookOptions } from "registry-relay";
 * const options: SignWebhookOptions = { secret: [oldSecret, newSecret], id, timestamp: new Date(), body };
 * ```
 */
export interface SignWebhookOptions {
  /** One secret, or several to sign with each (key rotation: old and new both verify). */
  secret: WebhookSecret | readonly WebhookSecret[];
  /** Message id, stable across retries (the receiver's idempotency key). Must not contain `.`. */
  id: string;
  /** Time of this attempt: unix seconds, or a Date (truncated to whole seconds). */
  timestamp: number | Date;
  /** The exact request body. */
  body: WebhookBody;
}

/**
 * Options of {@link verifyWebhook}.
 *
 * @example
 * ```ts
 * import type { VerifyWebhookOptions } from "registry-relay";
 * const options: VerifyWebhookOptions = { secret, headers: request.headers, body, toleranceSeconds: 60 };
 * ```
 */
export interface VerifyWebhookOptions {
  /** Accepted secrets: a signature made with any of them verifies. */
  secret: WebhookSecret | readonly WebhookSecret[];
  /** Request headers; a plain record is matched case-insensitively. */
  headers: Headers | Readonly<Record<string, string | readonly string[] | null | undefined>>;
  /** The raw request body, exactly as received. */
  body: WebhookBody;
  /** Allowed clock skew in both directions, in seconds (default 300; `Infinity` disables). */
  toleranceSeconds?: number;
  /** The current time, as a Date or unix seconds (default: now). */
  now?: Date | number;
}

/**
 * What a verified request was signed as.
 *
 * @example
 * ```ts
 * import { verifyWebhook, type VerifiedWebhook } from "registry-relay";
 * const { id, timestamp }: VerifiedWebhook = await verifyWebhook({ secret, headers, body });
 * ```
 */
export interface VerifiedWebhook {
  id: string;
  /** The `webhook-timestamp`, in unix seconds. */
  timestamp: number;
}

const secretPrefix = "whsec_";
const defaultToleranceSeconds = 5 * 60;
const encoder = new TextEncoder();

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

/**
 * Signs a webhook request the Standard Webhooks way: `v1,` + base64(HMAC-SHA256(key,
 * `id.timestamp.body`)). With several secrets the signature header lists one signature per
 * secret, space separated, so receivers can rotate keys without downtime.
 *
 * @example
 * ```ts
 * import { signWebhook } from "registry-relay";
 * const body = JSON.stringify({ events: [] });
 * const headers = await signWebhook({
 *   secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
 *   id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
 *   timestamp: new Date(),
 *   body,
 * });
 * await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
 * ```
 */
export async function signWebhook(options: SignWebhookOptions): Promise<WebhookHeaders> {
  const { id } = options;
  if (typeof id !== "string" || id === "" || id.includes(".")) {
    throw new TypeError("signWebhook: id must be a non-empty string without '.'");
  }
  const timestamp = signingTimestamp(options.timestamp);
  const secrets = secretList(options.secret);
  if (secrets === undefined) {
    throw new TypeError("signWebhook: secret must be a non-empty string or array of strings");
  }
  const content = signedContent(id, timestamp, bodyBytes(options.body, "signWebhook"));
  const signatures: string[] = [];
  for (const [index, secret] of secrets.entries()) {
    const key = await hmacKey(secret);
    if (key === undefined) {
      throw new TypeError(`signWebhook: secret${indexLabel(secrets, index)} is not valid base64`);
    }
    signatures.push(`v1,${toBase64(await hmac(key, content))}`);
  }
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatures.join(" "),
  };
}

/**
 * Verifies a Standard Webhooks request: all three headers present, the timestamp within
 * `toleranceSeconds` of now, and at least one `v1,` signature matching one of the secrets
 * (constant-time comparison; unknown versions such as `v1a,` are ignored). Pass the raw body.
 *
 * @example
 * ```ts
 * import { verifyWebhook } from "registry-relay";
 * const body = new Uint8Array(await request.arrayBuffer());
 * const { id } = await verifyWebhook({ secret: env.WEBHOOK_SECRET, headers: request.headers, body });
 * // `id` is stable across retries: use it to drop duplicates.
 * ```
 */
export async function verifyWebhook(options: VerifyWebhookOptions): Promise<VerifiedWebhook> {
  const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds;
  if (typeof tolerance !== "number" || Number.isNaN(tolerance) || tolerance < 0) {
    throw new TypeError("verifyWebhook: toleranceSeconds must be a number >= 0");
  }
  const now = currentSeconds(options.now);
  const secrets = secretList(options.secret);
  if (secrets === undefined) {
    throw new WebhookVerificationError(
      "invalid-secret",
      "secret must be a non-empty string or array of strings",
    );
  }
  const keys: CryptoKey[] = [];
  for (const [index, secret] of secrets.entries()) {
    const key = await hmacKey(secret);
    if (key === undefined) {
      throw new WebhookVerificationError(
        "invalid-secret",
        `secret${indexLabel(secrets, index)} is not valid base64`,
      );
    }
    keys.push(key);
  }

  const id = header(options.headers, "webhook-id");
  const timestampHeader = header(options.headers, "webhook-timestamp");
  const signatureHeader = header(options.headers, "webhook-signature");
  for (const [name, value] of [
    ["webhook-id", id],
    ["webhook-timestamp", timestampHeader],
    ["webhook-signature", signatureHeader],
  ] as const) {
    if (!value) throw new WebhookVerificationError("missing-header", `${name} header is missing`);
  }
  const timestamp = parseTimestamp(timestampHeader as string);
  if (now - timestamp > tolerance) {
    throw new WebhookVerificationError(
      "timestamp-too-old",
      `webhook-timestamp is more than ${tolerance} s in the past`,
    );
  }
  if (timestamp - now > tolerance) {
    throw new WebhookVerificationError(
      "timestamp-too-new",
      `webhook-timestamp is more than ${tolerance} s in the future`,
    );
  }

  const candidates = v1Signatures(signatureHeader as string);
  const content = signedContent(id as string, timestamp, bodyBytes(options.body, "verifyWebhook"));
  let matched = false;
  for (const key of keys) {
    const expected = await hmac(key, content);
    // Check every candidate against every key: which one matched is not leaked through timing.
    for (const candidate of candidates) {
      if (timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  if (!matched) {
    throw new WebhookVerificationError(
      "no-matching-signature",
      "no v1 signature in webhook-signature matches the secret",
    );
  }
  return { id: id as string, timestamp };
}

function indexLabel(secrets: readonly string[], index: number): string {
  return secrets.length > 1 ? `[${index}]` : "";
}

function secretList(secret: unknown): readonly string[] | undefined {
  const list = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.every((s) => typeof s === "string") ? (list as string[]) : undefined;
}

function signingTimestamp(value: number | Date): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new TypeError("signWebhook: timestamp is an invalid Date");
    return Math.floor(ms / 1000);
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(
      "signWebhook: timestamp must be whole unix seconds (integer >= 0) or a Date",
    );
  }
  return value;
}

function currentSeconds(now: Date | number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  const seconds = now instanceof Date ? now.getTime() / 1000 : now;
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) {
    throw new TypeError("verifyWebhook: now must be a valid Date or unix seconds");
  }
  return Math.floor(seconds);
}

function parseTimestamp(value: string): number {
  // Strict digits only: parseInt("12abc") would accept garbage, and a float is not whole seconds.
  const seconds = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(seconds)) {
    throw new WebhookVerificationError(
      "invalid-timestamp",
      "webhook-timestamp is not whole unix seconds",
    );
  }
  return seconds;
}

function header(headers: VerifyWebhookOptions["headers"], name: string): string | undefined {
  if (isHeaders(headers)) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value == null) continue;
    return typeof value === "string" ? value : value.join(" ");
  }
  return undefined;
}

function isHeaders(value: unknown): value is Headers {
  // Not `instanceof Headers`: headers may come from another realm or a fetch polyfill.
  return (
    typeof (value as Headers).get === "function" && typeof (value as Headers).has === "function"
  );
}

/** Decoded `v1,` signatures; other versions and undecodable entries are skipped. */
function v1Signatures(value: string): Uint8Array[] {
  const signatures: Uint8Array[] = [];
  for (const entry of value.split(/\s+/)) {
    // `Headers.get` joins repeated headers with ", ": drop that trailing comma.
    const token = entry.endsWith(",") && entry.length > 3 ? entry.slice(0, -1) : entry;
    if (!token.startsWith("v1,")) continue;
    const bytes = fromBase64(token.slice(3));
    if (bytes !== undefined && bytes.length > 0) signatures.push(bytes);
  }
  return signatures;
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

function signedContent(id: string, timestamp: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix, 0);
  content.set(body, prefix.length);
  return content;
}

async function hmac(key: CryptoKey, content: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
}

// Importing a key costs about as much as the HMAC itself; receivers verify with the same few
// secrets over and over. Bounded so a caller cycling through secrets cannot grow it forever.
const keyCacheLimit = 32;
const keyCache = new Map<string, Promise<CryptoKey | undefined>>();

function hmacKey(secret: string): Promise<CryptoKey | undefined> {
  const cached = keyCache.get(secret);
  if (cached !== undefined) return cached;
  const raw = fromBase64(
    secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret,
  );
  const key =
    raw === undefined || raw.length === 0
      ? Promise.resolve(undefined)
      : crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  if (keyCache.size >= keyCacheLimit) {
    const oldest = keyCache.keys().next().value;
    if (oldest !== undefined) keyCache.delete(oldest);
  }
  keyCache.set(secret, key);
  // A failed import must not poison the cache.
  key.catch(() => keyCache.delete(secret));
  return key;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Standard base64, padding optional; `undefined` for anything else. */
function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!base64Pattern.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

import {
  equal,
  fromBase64,
  secretKeys,
  signedContent,
  subtleHmac,
  type WebhookBody,
  type WebhookSecret,
} from "./hmac.ts";
import { syncHmac } from "./hmac-sync.ts";

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
  // Set in the constructor: `declare` emits no class fields, which a bundle would have to keep.
  declare readonly name: "WebhookVerificationError";
  declare readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.reason = reason;
    this.name = "WebhookVerificationError";
  }
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
  /**
   * The current time, as a Date or unix seconds (default: now). Milliseconds (`Date.now()`) are
   * refused with a RangeError.
   */
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
  const { headers } = options;
  const tolerance = options.toleranceSeconds ?? 300;
  if (typeof tolerance !== "number" || !(tolerance >= 0)) {
    throw new TypeError("toleranceSeconds must be a number >= 0");
  }
  const given = options.now ?? Date.now() / 1000;
  const now = given instanceof Date ? +given / 1000 : given;
  if (!Number.isFinite(now)) throw new TypeError("now must be a Date or unix seconds");
  // Milliseconds since 1973 (`Date.now()`) are all above 1e11 s, the year 5138.
  if (now > 1e11) throw new RangeError("now must be a Date or unix seconds, not milliseconds");
  const keys = secretKeys(
    options.secret,
    (message) => new WebhookVerificationError("invalid-secret", message),
  );
  const header = (name: string): string => {
    let value: unknown;
    // Not `instanceof Headers`: headers may come from another realm or a fetch polyfill.
    if (typeof headers.get === "function") value = (headers as Headers).get(name);
    else
      for (const key in headers)
        if (key.toLowerCase() === name) value ??= (headers as Record<string, unknown>)[key];
    // A list is joined; null, undefined and "" are missing.
    value = (value as string[] | undefined)?.join?.(" ") ?? value;
    if (!value) throw new WebhookVerificationError("missing-header", `${name} is missing`);
    return value as string;
  };

  const id = header("webhook-id");
  const timestampHeader = header("webhook-timestamp");
  const signatureHeader = header("webhook-signature");
  // Strict digits only: parseInt("12abc") would accept garbage, and a float is not whole seconds.
  if (!/^\d{1,15}$/.test(timestampHeader)) {
    throw new WebhookVerificationError(
      "invalid-timestamp",
      "webhook-timestamp is not unix seconds",
    );
  }
  const timestamp = +timestampHeader;
  const age = Math.floor(now) - timestamp;
  if (Math.abs(age) > tolerance) {
    const word = age > 0 ? "old" : "new";
    throw new WebhookVerificationError(`timestamp-too-${word}`, `webhook-timestamp is too ${word}`);
  }

  const content = signedContent(id, timestamp, options.body);
  const macs: Uint8Array[] = [];
  for (const key of keys) {
    // Up to 8 KB, hashing in JavaScript beats the async Web Crypto hand-off.
    macs.push(content.length > 8192 ? await subtleHmac(key, content) : syncHmac(key, content));
  }
  // Every `v1,` signature, with the "," that Headers puts between repeated headers dropped;
  // other versions are skipped. Every candidate is checked against every key, so which one
  // matched is not leaked through timing.
  let matched = false;
  for (const entry of signatureHeader.split(/,?\s+|,$/)) {
    const bytes = entry.startsWith("v1,") && fromBase64(entry.slice(3));
    for (const mac of macs) if (bytes && equal(mac, bytes)) matched = true;
  }
  if (!matched) {
    throw new WebhookVerificationError(
      "no-matching-signature",
      "no v1 signature in webhook-signature matches",
    );
  }
  return { id, timestamp };
}

import {
  type HmacKey,
  secretKeys,
  signedContent,
  subtleHmac,
  toBase64,
  type WebhookBody,
  type WebhookSecret,
} from "./hmac.ts";

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
  /**
   * Time of this attempt: unix seconds, or a Date (truncated to whole seconds). Milliseconds
   * (`Date.now()`) are refused with a RangeError: the receiver would reject the signature.
   */
  timestamp: number | Date;
  /** The exact request body. */
  body: WebhookBody;
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
  if (typeof id !== "string" || !id || id.includes(".")) {
    throw new TypeError("id must be a non-empty string without '.'");
  }
  const given = options.timestamp;
  const timestamp = given instanceof Date ? Math.floor(+given / 1000) : given;
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError("timestamp must be a valid Date or whole unix seconds >= 0");
  }
  // Milliseconds since 1973 (`Date.now()`) are all above 1e11 s, the year 5138.
  if (timestamp > 1e11) {
    throw new RangeError("timestamp must be a valid Date or whole unix seconds, not milliseconds");
  }
  const keys = secretKeys(options.secret, (message) => new TypeError(message));
  return signatureHeaders(keys, id, timestamp, options.body);
}

/**
 * The Standard Webhooks headers of a message whose id and timestamp are known good (a sender
 * that makes them itself, as HttpSink does, skips signWebhook's checks of them).
 */
export async function signatureHeaders(
  keys: HmacKey[],
  id: string,
  timestamp: number,
  body: WebhookBody,
): Promise<WebhookHeaders> {
  const content = signedContent(id, timestamp, body);
  const macs = await Promise.all(keys.map((key) => subtleHmac(key, content)));
  return {
    "webhook-id": id,
    "webhook-timestamp": `${timestamp}`,
    "webhook-signature": macs.map((mac) => `v1,${toBase64(mac)}`).join(" "),
  };
}

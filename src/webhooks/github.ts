// GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw
// body under the webhook's secret (any string, used as UTF-8 bytes). GitHub Packages sends it;
// the relay's `github` route takes a valid one in place of a bearer token.
import { encoder, type HmacKey, subtleHmac, timingSafeEqual, type WebhookBody } from "./hmac.ts";

// GitHub's secret is used as it is (UTF-8), not base64-decoded like a Standard Webhooks secret:
// its keys are kept apart from hmac.ts's cache. A handful per process at most; bounded all the
// same. Each key's Web Crypto key is imported once (subtleHmac keeps it on the key).
const keys = new Map<string, HmacKey>();

function keyOf(secret: string): HmacKey {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= 16) keys.clear();
    key = [encoder.encode(secret) as Uint8Array<ArrayBuffer>];
    keys.set(secret, key);
  }
  return key;
}

/** The body's bytes: a view is taken as it is (Web Crypto reads only its range). */
const bytesOf = (body: WebhookBody): Uint8Array =>
  typeof body === "string"
    ? encoder.encode(body)
    : body instanceof Uint8Array
      ? body
      : new Uint8Array(body);

/**
 * Checks GitHub's `X-Hub-Signature-256` header (`sha256=` and 64 hex digits) against the HMAC-SHA256
 * of the exact body bytes under `secret`, in constant time. `false` for a missing, malformed or
 * wrong signature; never throws for the header's sake. An empty secret is a configuration error
 * (`TypeError`): GitHub cannot sign with one.
 *
 * @example
 * ```ts
 * import { verifyGitHubSignature } from "registry-relay/webhooks";
 * const body = await request.arrayBuffer();
 * const ok = await verifyGitHubSignature(secret, body, request.headers.get("x-hub-signature-256"));
 * if (!ok) return new Response("bad signature", { status: 401 });
 * ```
 */
export async function verifyGitHubSignature(
  secret: string,
  body: WebhookBody,
  header: string | null | undefined,
): Promise<boolean> {
  if (typeof secret !== "string" || secret === "") {
    throw new TypeError("verifyGitHubSignature: secret must be a non-empty string");
  }
  const presented = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "")?.[1]?.toLowerCase();
  const mac = await subtleHmac(keyOf(secret), bytesOf(body));
  const expected = Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
  // Compared even when the header is malformed, so timing says nothing about which it was.
  const equal = timingSafeEqual(expected, presented ?? "0".repeat(64));
  return presented !== undefined && equal;
}

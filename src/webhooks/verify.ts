import {
  fromBase64,
  hmac,
  importKeys,
  maxSeconds,
  signedContent,
  timingSafeEqual,
  type WebhookBody,
  type WebhookSecret,
} from "./hmac.ts";

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
  const tolerance = options.toleranceSeconds ?? 300;
  if (typeof tolerance !== "number" || Number.isNaN(tolerance) || tolerance < 0) {
    throw new TypeError("verifyWebhook: toleranceSeconds must be a number >= 0");
  }
  const now = currentSeconds(options.now);
  const keys = importKeys(
    options.secret,
    (reason) => new WebhookVerificationError("invalid-secret", reason),
  );

  const id = requiredHeader(options.headers, "webhook-id");
  const timestampHeader = requiredHeader(options.headers, "webhook-timestamp");
  const signatureHeader = requiredHeader(options.headers, "webhook-signature");
  const timestamp = parseTimestamp(timestampHeader);
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

  const candidates = v1Signatures(signatureHeader);
  const content = signedContent(id, timestamp, options.body, "verifyWebhook");
  let matched = false;
  for (const key of keys) {
    const signed = hmac(key, content);
    const expected = signed instanceof Promise ? await signed : signed;
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
  return { id, timestamp };
}

function currentSeconds(now: Date | number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  const seconds = now instanceof Date ? now.getTime() / 1000 : now;
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) {
    throw new TypeError("verifyWebhook: now must be a valid Date or unix seconds");
  }
  if (typeof now === "number" && now > maxSeconds) {
    throw new RangeError(
      `verifyWebhook: now ${now} looks like milliseconds; it must be unix seconds ` +
        "(Math.floor(Date.now() / 1000)) or a Date",
    );
  }
  return Math.floor(seconds);
}

function parseTimestamp(value: string): number {
  // Strict digits only: parseInt("12abc") would accept garbage, and a float is not whole seconds.
  if (!/^\d{1,15}$/.test(value)) {
    throw new WebhookVerificationError(
      "invalid-timestamp",
      "webhook-timestamp is not whole unix seconds",
    );
  }
  return Number(value);
}

function requiredHeader(headers: VerifyWebhookOptions["headers"], name: string): string {
  const value = header(headers, name);
  if (!value) throw new WebhookVerificationError("missing-header", `${name} header is missing`);
  return value;
}

function header(headers: VerifyWebhookOptions["headers"], name: string): string | undefined {
  // Not `instanceof Headers`: headers may come from another realm or a fetch polyfill.
  if (typeof headers.get === "function" && typeof headers.has === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value == null) continue;
    return typeof value === "string" ? value : value.join(" ");
  }
  return undefined;
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

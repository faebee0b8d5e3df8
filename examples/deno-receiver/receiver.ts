// The receiver as a Hono app, free of Deno APIs so it can be tested or mounted anywhere:
// Standard Webhooks signature (when a secret is set) → registry-relay/hono's receive rules
// (bearer token, content type, size, envelope) → drop duplicates → one printed line per event.
import { Hono, type MiddlewareHandler } from "hono";
import {
  type Event,
  verifyWebhook,
  type WebhookSecret,
  WebhookVerificationError,
} from "registry-relay";
import {
  BodyTooLargeError,
  defaultMaxBodyBytes,
  errorResponse,
  readBodyLimited,
  receiveEnvelopes,
} from "registry-relay/hono";

/**
 * Settings of {@link createReceiver}.
 *
 * @example
 * ```ts
 * const options: ReceiverOptions = { tokens: [], secret: "whsec_...", print: console.log, log: console.error };
 * ```
 */
export interface ReceiverOptions {
  /** Accepted bearer tokens; empty means requests need no token (the signature, if any, suffices). */
  tokens: readonly string[];
  /** Standard Webhooks secret(s): when set, every request must carry a valid signature. */
  secret?: WebhookSecret | readonly WebhookSecret[];
  /** How many message and event ids to remember for dropping duplicates (default 10 000). */
  remember?: number;
  /** Where the one line per new event goes (stdout in main.ts). */
  print: (line: string) => void;
  /** Where rejections and duplicates are reported (stderr in main.ts). */
  log: (line: string) => void;
}

/**
 * Ids seen recently, oldest forgotten first, so a long-running receiver has bounded memory.
 *
 * @example
 * ```ts
 * const seen = new RecentIds(2);
 * seen.add("a"); // true (new)
 * seen.add("a"); // false (duplicate)
 * ```
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`remember must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Remembers `id`; false when it was already known. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
    return true;
  }
}

/**
 * One event as one line: action, repository with tag and/or digest (as a docker reference),
 * then the event id.
 *
 * @example
 * ```ts
 * formatEvent(event); // "push harness/alpha:v1@sha256:3e0a… id=d624a3e6-bc9f-4de2-8803-32ab4dc07211"
 * ```
 */
export function formatEvent(event: Event): string {
  const { repository, tag, digest } = event.target;
  const reference = `${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  return `${event.action} ${reference} id=${event.id}`;
}

type ReceiverEnv = { Variables: { webhookId?: string } };

/**
 * Checks the Standard Webhooks signature over the exact body before anything parses it. The
 * body is read from a clone, so the receive middleware after it still gets the stream.
 */
function verifySignature(
  secret: WebhookSecret | readonly WebhookSecret[],
  seen: RecentIds,
  log: (line: string) => void,
): MiddlewareHandler<ReceiverEnv> {
  return async (c, next) => {
    let body: Uint8Array;
    try {
      body = await readBodyLimited(c.req.raw.clone(), defaultMaxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return errorResponse(413, "payload_too_large", error.message);
      }
      throw error;
    }
    let id: string;
    try {
      ({ id } = await verifyWebhook({ secret, headers: c.req.raw.headers, body }));
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return errorResponse(401, "invalid_signature", `${error.reason}: ${error.message}`);
    }
    // A retried delivery carries the same webhook-id: answer 200 so the sender stops.
    if (seen.has(`message:${id}`)) {
      log(`duplicate message webhook-id=${id}`);
      return c.json({ received: 0, duplicate: true }, 200);
    }
    c.set("webhookId", id);
    await next();
  };
}

/**
 * The receiver app: `POST /events` takes envelopes, `GET /healthz` answers `{"status":"ok"}`.
 * New events are printed once each; duplicates (same `webhook-id` or event id) are answered
 * 200 and not printed again.
 *
 * @example
 * ```ts
 * const app = createReceiver({ tokens: [], secret: Deno.env.get("WEBHOOK_SECRET"), print: console.log, log: console.error });
 * Deno.serve({ hostname: "127.0.0.1", port: 8789 }, app.fetch);
 * ```
 */
export function createReceiver(options: ReceiverOptions): Hono<ReceiverEnv> {
  const { tokens, secret, print, log } = options;
  const seen = new RecentIds(options.remember ?? 10_000);
  const app = new Hono<ReceiverEnv>();

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Every refusal gets one stderr line with its status and error code (never a header value).
  app.use("/events", async (c, next) => {
    await next();
    if (c.res.status < 400) return;
    const body = (await c.res
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
    log(`rejected ${c.res.status} ${body?.error?.code ?? ""}: ${body?.error?.message ?? ""}`);
  });
  if (secret !== undefined) app.post("/events", verifySignature(secret, seen, log));
  app.post(
    "/events",
    receiveEnvelopes<ReceiverEnv>({
      tokens,
      allowAnonymous: tokens.length === 0,
      onEnvelope: (envelope, { c }) => {
        let received = 0;
        let duplicates = 0;
        for (const event of envelope.events) {
          if (seen.add(`event:${event.id}`)) {
            received++;
            print(formatEvent(event));
          } else {
            duplicates++;
            log(`duplicate event id=${event.id}`);
          }
        }
        const webhookId = c.get("webhookId");
        if (webhookId !== undefined) seen.add(`message:${webhookId}`);
        return c.json({ received, duplicates }, 200);
      },
    }),
  );
  app.notFound((c) =>
    errorResponse(404, "not_found", `no route for ${c.req.method} ${c.req.path}`),
  );
  return app;
}

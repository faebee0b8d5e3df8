// Standard Webhooks (https://www.standardwebhooks.com) signing and verification with Web Crypto
// only, so the same code runs in browsers, Deno, Bun, Node and Workers. The public names:

export { verifyGitHubSignature } from "./github.ts";
export { timingSafeEqual, type WebhookBody, type WebhookSecret } from "./hmac.ts";
export { type SignWebhookOptions, signWebhook, type WebhookHeaders } from "./sign.ts";
export {
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "./verify.ts";

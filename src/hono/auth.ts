// Bearer-token checks that leak neither which configured token matched nor how much of it did.
import { timingSafeEqual } from "../webhooks/webhooks.ts";

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or
 * `undefined` when the header is missing, uses another scheme or carries an empty token.
 *
 * @example
 * ```ts
 * import { bearerToken } from "registry-relay/hono";
 * bearerToken("Bearer abc"); // "abc"
 * bearerToken("Basic dXNlcjpwYXNz"); // undefined
 * ```
 */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
  return match?.[1];
}

/**
 * A checker for a fixed set of tokens. Both sides are hashed with SHA-256 first, so the
 * comparison takes the same time whatever the lengths, and the presented token is compared with
 * every configured one (no early exit that would reveal which one matched).
 *
 * @example
 * ```ts
 * import { tokenMatcher } from "registry-relay/hono";
 * const isValid = tokenMatcher(["token-a", "token-b"]);
 * await isValid("token-b"); // true
 * await isValid("nope"); // false
 * ```
 */
export function tokenMatcher(tokens: readonly string[]): (presented: string) => Promise<boolean> {
  tokens.forEach((token, index) => {
    if (typeof token !== "string" || token.length === 0) {
      throw new TypeError(`tokens[${index}] must be a non-empty string`);
    }
  });
  let digests: Promise<Uint8Array[]> | undefined;
  return async (presented) => {
    digests ??= Promise.all(tokens.map(sha256));
    const [known, candidate] = await Promise.all([digests, sha256(presented)]);
    let matched = false;
    for (const digest of known) {
      const equal = timingSafeEqual(digest, candidate);
      matched = matched || equal;
    }
    return matched;
  };
}

// The HMAC-SHA256 of small contents, synchronously (sha256.ts): what verifying a 1 KB envelope
// spends most of its time on otherwise is the async Web Crypto hand-off. Each key's schedule
// (the states after its inner and outer key blocks) is derived once and kept on the cached key.
import type { HmacKey } from "./hmac.ts";
import { first, sha256 } from "./sha256.ts";

/** HMAC-SHA256 (RFC 2104) of `content`, from the key's cached schedule. */
export const syncHmac = (key: HmacKey, content: Uint8Array): Uint8Array => {
  if (!key[2]) {
    const raw = key[0];
    const block = raw.length > 64 ? sha256(raw) : raw;
    // The state after hashing the key block xor `pad` (past the key's end, `block[i]` is 0).
    const state = (pad: number) => {
      sha256(new Uint8Array(64).map((_, i) => (block[i] as number) ^ pad));
      return first;
    };
    key[2] = state(0x36);
    key[3] = state(0x5c);
  }
  return sha256(sha256(content, key[2]), key[3]);
};

// The HMAC-SHA256 of small contents, synchronously (sha256.ts): what verifying a 1 KB envelope
// spends most of its time on otherwise is the async Web Crypto hand-off.
import type { HmacKey } from "./hmac.ts";
import { sha256 } from "./sha256.ts";

/** HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || content)). */
export const syncHmac = (key: HmacKey, content: Uint8Array): Uint8Array => {
  const raw = key[0];
  const block = raw.length > 64 ? sha256(raw) : raw;
  // The key block xor `pad` (past the key's end, `block[i]` is 0), then `rest`.
  const padded = (pad: number, rest: Uint8Array) => {
    const bytes = new Uint8Array(64 + rest.length);
    for (let i = 0; i < 64; i++) bytes[i] = (block[i] as number) ^ pad;
    bytes.set(rest, 64);
    return bytes;
  };
  return sha256(padded(0x5c, sha256(padded(0x36, content))));
};

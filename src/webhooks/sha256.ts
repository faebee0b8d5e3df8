// A compact synchronous SHA-256 (FIPS 180-4) for the HMAC of small bodies. Web Crypto is async:
// for a 1 KB envelope the hand-off costs more than hashing it, so small bodies are hashed here,
// in plain JavaScript that runs anywhere. Large bodies still go to crypto.subtle.

// The round constants and initial state are the first 32 bits of the fractional parts of the
// cube and square roots of the first primes (FIPS 180-4 §4.2.2, §5.3.3); computed, not listed,
// which keeps the bundle small. Doubles carry enough bits for these to come out exact (tested);
// storing into an Int32Array truncates them to 32 bits, and drops the stores past its end.
const primes: number[] = [];
const K = /* @__PURE__ */ new Int32Array(64);
const initial = /* @__PURE__ */ new Int32Array(8);
for (let n = 2; primes.length < 64; n++) {
  if (primes.every((p) => n % p)) {
    initial[primes.length] = (Math.sqrt(n) % 1) * 2 ** 32;
    K[primes.push(n) - 1] = (Math.cbrt(n) % 1) * 2 ** 32;
  }
}
const w = /* @__PURE__ */ new Int32Array(64);
const r = (x: number, n: number) => (x >>> n) | (x << (32 - n));

/** The state after the first block of the last {@link sha256}: an HMAC key schedule half. */
export let first: Int32Array;

/**
 * SHA-256 of `data`, or with `state` (a {@link first}) of the 64 bytes that led to it followed by
 * `data`.
 */
export function sha256(data: Uint8Array, state?: Int32Array): Uint8Array<ArrayBuffer> {
  const n = data.length;
  // The message, the 0x80 byte, zeros and the length in bits: a whole number of 64-byte blocks.
  const size = (n + 72) & -64;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const h = new Int32Array(state ?? initial);
  bytes.set(data);
  bytes[n] = 128;
  // The high word of the length stays 0: small bodies, and keys, which come from strings (at most
  // 2 ** 29 characters in V8, less elsewhere), are far below 2 ** 29 bytes.
  view.setUint32(size - 4, (n + (state ? 64 : 0)) * 8);
  for (let p = 0; p < size; p += 64) {
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    let f = h[5] as number;
    let g = h[6] as number;
    let k = h[7] as number;
    for (let i = 0; i < 64; i++) {
      if (i < 16) w[i] = view.getInt32(p + i * 4);
      else {
        const x = w[i - 2] as number;
        const y = w[i - 15] as number;
        w[i] =
          (r(x, 17) ^ r(x, 19) ^ (x >>> 10)) +
          (w[i - 7] as number) +
          (r(y, 7) ^ r(y, 18) ^ (y >>> 3)) +
          (w[i - 16] as number);
      }
      const t1 =
        (k +
          (r(e, 6) ^ r(e, 11) ^ r(e, 25)) +
          ((e & f) ^ (~e & g)) +
          (K[i] as number) +
          (w[i] as number)) |
        0;
      const t2 = ((r(a, 2) ^ r(a, 13) ^ r(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    // Int32Array stores wrap to 32 bits.
    (h[0] as number) += a;
    (h[1] as number) += b;
    (h[2] as number) += c;
    (h[3] as number) += d;
    (h[4] as number) += e;
    (h[5] as number) += f;
    (h[6] as number) += g;
    (h[7] as number) += k;
    if (!p) first = h.slice();
  }
  for (let i = 0; i < 8; i++) view.setInt32(i * 4, h[i] as number);
  return bytes.slice(0, 32);
}

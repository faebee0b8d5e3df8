// A compact synchronous HMAC-SHA256 (FIPS 180-4, RFC 2104) for small bodies. Web Crypto is
// async: for a 1 KB envelope the hand-off costs more than hashing it, so small bodies are hashed
// here, in plain JavaScript that runs anywhere. Large bodies still go to crypto.subtle.

// The round constants and initial state are the first 32 bits of the fractional parts of the
// cube and square roots of the first primes (FIPS 180-4 §4.2.2, §5.3.3); computed, not listed,
// which keeps the bundle small. Doubles carry enough bits for these to come out exact (tested).
const primes: number[] = [];
for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
const fraction = (x: number) => ((x - Math.floor(x)) * 2 ** 32) | 0;
const K = /* @__PURE__ */ Int32Array.from(primes, (p) => fraction(Math.cbrt(p)));
const initial = primes.slice(0, 8).map((p) => fraction(Math.sqrt(p)));
const w = /* @__PURE__ */ new Int32Array(64);
const tail = /* @__PURE__ */ new Uint8Array(128);

/** Runs the compression function over `bytes[start, end)`, a whole number of 64-byte blocks. */
function blocks(h: Int32Array, bytes: Uint8Array, start: number, end: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let p = start; p < end; p += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(p + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 2] as number;
      const y = w[i - 15] as number;
      w[i] =
        ((((x >>> 17) | (x << 15)) ^ ((x >>> 19) | (x << 13)) ^ (x >>> 10)) +
          (w[i - 7] as number) +
          (((y >>> 7) | (y << 25)) ^ ((y >>> 18) | (y << 14)) ^ (y >>> 3)) +
          (w[i - 16] as number)) |
        0;
    }
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    let f = h[5] as number;
    let g = h[6] as number;
    let k = h[7] as number;
    for (let i = 0; i < 64; i++) {
      const t1 =
        (k +
          (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) +
          (K[i] as number) +
          (w[i] as number)) |
        0;
      const t2 =
        ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c))) |
        0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = ((h[0] as number) + a) | 0;
    h[1] = ((h[1] as number) + b) | 0;
    h[2] = ((h[2] as number) + c) | 0;
    h[3] = ((h[3] as number) + d) | 0;
    h[4] = ((h[4] as number) + e) | 0;
    h[5] = ((h[5] as number) + f) | 0;
    h[6] = ((h[6] as number) + g) | 0;
    h[7] = ((h[7] as number) + k) | 0;
  }
}

/** Hashes `bytes` on from state `h`, `before` bytes already hashed into it; returns the digest. */
function finish(h: Int32Array, bytes: Uint8Array, before: number): Uint8Array {
  const whole = bytes.length - (bytes.length % 64);
  blocks(h, bytes, 0, whole);
  const rest = bytes.length - whole;
  const size = rest < 56 ? 64 : 128;
  tail.fill(0);
  tail.set(bytes.subarray(whole), 0);
  tail[rest] = 0x80;
  const bits = (before + bytes.length) * 8;
  const view = new DataView(tail.buffer);
  view.setUint32(size - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(size - 4, bits >>> 0);
  blocks(h, tail, 0, size);
  const digest = new Uint8Array(32);
  const out = new DataView(digest.buffer);
  for (let i = 0; i < 8; i++) out.setInt32(i * 4, h[i] as number);
  return digest;
}

/**
 * The HMAC-SHA256 key schedule: the states after the inner (`0x36`) and outer (`0x5c`) key
 * blocks, 16 words. Computed once per key, so each HMAC hashes only the message and one block.
 */
export function hmacPads(key: Uint8Array): Int32Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? finish(Int32Array.from(initial), key, 0) : key);
  const pads = new Int32Array(16);
  for (const [offset, xor] of [
    [0, 0x36],
    [8, 0x5c],
  ] as const) {
    const padded = block.map((byte) => byte ^ xor);
    const state = pads.subarray(offset, offset + 8);
    state.set(initial);
    blocks(state, padded, 0, 64);
  }
  return pads;
}

/** HMAC-SHA256 of `message` under the key whose {@link hmacPads} these are. */
export function hmacSha256(pads: Int32Array, message: Uint8Array): Uint8Array {
  const inner = finish(pads.slice(0, 8), message, 64);
  return finish(pads.slice(8, 16), inner, 64);
}

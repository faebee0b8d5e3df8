// The one seeded PRNG of the tests (mulberry32): floats in [0, 1), the same sequence for the same
// seed in every runtime, so a failing fuzz, load or flaky-receiver run is reproducible.

/**
 * @param {number} seed
 * @returns {() => number}
 */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

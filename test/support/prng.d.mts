/** A seeded PRNG (mulberry32): floats in [0, 1), the same sequence for the same seed everywhere. */
export declare function prng(seed: number): () => number;

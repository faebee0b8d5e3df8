// The part of Bun's global API that emitter.ts uses, so `tsc -p examples/bun-emitter` can check
// it without @types/bun. Bun itself needs no declarations.
declare const Bun: {
  /** `["bun", "/path/to/emitter.ts", ...args]`, as process.argv. */
  readonly argv: string[];
  readonly env: Record<string, string | undefined>;
  readonly version: string;
};

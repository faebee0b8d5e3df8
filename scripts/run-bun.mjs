// `npm run test:bun`: the core tests under Bun, against a test server of its own.
// Usage: node scripts/run-bun.mjs [./test/core/x.test.ts ...]
import { runCoreCli } from "./run-lib.mjs";

await runCoreCli("bun");

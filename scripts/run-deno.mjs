// `npm run test:deno`: the core tests under Deno, against a test server of its own.
// Usage: node scripts/run-deno.mjs [test/core/x.test.ts ...]
import { runCoreCli } from "./run-lib.mjs";

await runCoreCli("deno");

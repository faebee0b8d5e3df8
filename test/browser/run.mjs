// `npm run test:browser-admin`: runs the admin console's browser proof with node:test (spec
// output), then prints `N passed, N failed` (the line scripts/test.mjs counts). Exit code 1 on
// any failure. The whole run is bounded: the test file has its own timeouts, and this runner
// gives up after 6 minutes.
import { join } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const files = [join(here, "admin.test.mjs"), join(here, "validator.test.mjs")];

let passed = 0;
let failed = 0;
const stream = run({ files, concurrency: 1, timeout: 360_000 });
// Count tests, not the suites (describe) or the file that hold them.
const isTest = (event) => event.details?.type !== "suite" && event.nesting > 0;
stream.on("test:pass", (event) => {
  if (isTest(event)) passed++;
});
stream.on("test:fail", (event) => {
  if (isTest(event)) failed++;
  else if (event.nesting === 0 && event.details?.type !== "suite") failed++; // the file crashed
});
const reporter = stream.compose(new spec());
reporter.pipe(process.stdout);
await new Promise((done) => reporter.once("end", done));
// A crash before any test ran still counts as a failure.
if (passed === 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;

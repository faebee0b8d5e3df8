// `npm run test:e2e`: runs the e2e suite with node:test's spec reporter, passes its output
// through, and ends with the `N passed, N failed` line scripts/test.mjs reads. Exits non-zero
// when anything failed or the suite crashed (a crash counts as one failure).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const suite = join(here, "relay.e2e.test.mjs");

const child = spawn(
  process.execPath,
  ["--test", "--test-reporter=spec", "--test-concurrency=1", suite],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString("utf8");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal)); // the suite cleans up its own processes
}
child.on("close", (code, signal) => {
  const count = (name) => {
    const all = [...output.matchAll(new RegExp(`^\\S*\\s*${name} (\\d+)\\s*$`, "gm"))];
    return all.length > 0 ? Number(all.at(-1)[1]) : null;
  };
  const passed = count("pass") ?? 0;
  let failed = count("fail") ?? 0;
  if (failed === 0 && (code !== 0 || signal !== null)) failed = 1;
  if (count("pass") === null && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
});

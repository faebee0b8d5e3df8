// The core tests (test/core/*.test.ts, node:test + node:assert/strict) under Bun.
// Counts come from bun test's closing summary (" N pass", " N fail", " N skip").
// Usage: node scripts/run-bun.mjs   (starts its own test server)
import { bin, isMain, outcome, run, runStandalone, stripAnsi } from "./run-lib.mjs";

/** `{ passed, failed, skipped }` from bun test's summary, or undefined if there is none. */
export function parseBunSummary(output) {
  const text = stripAnsi(output);
  const number = (word) => Number(text.match(new RegExp(`^\\s*(\\d+) ${word}$`, "m"))?.[1] ?? 0);
  if (!/^Ran \d+ tests? across/m.test(text)) return undefined;
  return {
    passed: number("pass"),
    failed: number("fail"),
    skipped: number("skip") + number("todo"),
  };
}

export async function runBun({ serverUrl, files = ["./test/core/"] }) {
  const result = await run(bin("bun"), ["test", ...files], {
    env: { RELAY_TEST_SERVER: serverUrl, NO_COLOR: "1", FORCE_COLOR: "0" },
    log: "bun.log",
    timeoutMs: 300_000,
  });
  const counts = parseBunSummary(result.output) ?? { passed: 0, failed: 0, skipped: 0 };
  let crashed = "";
  if (result.timedOut) crashed = "timed out";
  else if (result.code !== 0 && counts.failed === 0)
    crashed = `exit code ${result.code}, no failing test reported (see .tmp/bun.log)`;
  else if (counts.passed + counts.failed === 0) crashed = "no tests found";
  return outcome("bun", { ...counts, crashed, ms: result.ms });
}

if (isMain(import.meta.url))
  await runStandalone((options) =>
    runBun({ ...options, files: process.argv.slice(2).length ? process.argv.slice(2) : undefined }),
  );

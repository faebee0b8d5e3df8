// Every vitest project (core-node, core-workerd, node, and whatever test/<area>/vitest.project.ts
// adds) in one `vitest run`, with the default reporter for humans and a JSON report for counts.
// Usage: node scripts/run-vitest.mjs [vitest args...]
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { bin, formatOutcome, isMain, outcome, run, tmp } from "./run-lib.mjs";

/** Counts from vitest's JSON report; a file that failed to load counts as one failed test. */
export function parseVitestJson(report) {
  const loadFailures = report.testResults.filter(
    (file) => file.status === "failed" && !file.assertionResults.some((t) => t.status === "failed"),
  ).length;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + loadFailures,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

export async function runVitest({ args = [] } = {}) {
  const report = join(tmp, "vitest.json");
  await rm(report, { force: true });
  const result = await run(
    bin("vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args],
    { log: "vitest.log", timeoutMs: 900_000 },
  );
  let counts;
  try {
    counts = parseVitestJson(JSON.parse(await readFile(report, "utf8")));
  } catch {}
  let crashed = "";
  if (result.timedOut) crashed = "timed out";
  else if (!counts) crashed = `no JSON report (exit code ${result.code}, see .tmp/vitest.log)`;
  else if (result.code !== 0 && counts.failed === 0) {
    crashed = `exit code ${result.code} with no failing test (unhandled error? see .tmp/vitest.log)`;
  }
  return outcome("vitest", { ...(counts ?? {}), crashed, ms: result.ms });
}

if (isMain(import.meta.url)) {
  const result = await runVitest({ args: process.argv.slice(2) });
  console.log(formatOutcome(result));
  console.log(`${result.passed} passed, ${result.failed} failed`);
  process.exit(result.failed > 0 ? 1 : 0);
}

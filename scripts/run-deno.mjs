// The core tests (test/core/*.test.ts, node:test + node:assert/strict) under Deno.
// Counts come from Deno's JUnit report: node:test `describe` becomes a Deno test and each `it`
// a step, so only leaf test cases (no "name > …" below them) are counted.
// Usage: node scripts/run-deno.mjs   (starts its own test server)
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { bin, isMain, outcome, run, runStandalone, stripAnsi, tmp } from "./run-lib.mjs";

const decodeEntities = (text) =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");

/** Leaf test cases of a Deno JUnit report: `{ name, status }`. */
export function parseDenoJunit(xml) {
  const cases = [];
  const pattern = /<testcase\s+name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const match of xml.matchAll(pattern)) {
    const body = match[3] ?? "";
    const status = /<(failure|error)\b/.test(body)
      ? "fail"
      : /<skipped\b/.test(body)
        ? "skip"
        : "pass";
    cases.push({ name: decodeEntities(match[1]), status });
  }
  const names = cases.map((c) => c.name);
  return cases.filter((c) => !names.some((other) => other.startsWith(`${c.name} > `)));
}

export async function runDeno({ serverUrl, files = ["test/core/"] }) {
  const report = join(tmp, "deno-junit.xml");
  await rm(report, { force: true });
  const args = [
    "test",
    "--no-lock",
    "--allow-net=127.0.0.1",
    "--allow-env",
    `--junit-path=${report}`,
    ...files,
  ];
  const result = await run(bin("deno"), args, {
    env: { RELAY_TEST_SERVER: serverUrl, NO_COLOR: "1" },
    log: "deno.log",
    timeoutMs: 300_000,
  });
  let cases = [];
  try {
    cases = parseDenoJunit(await readFile(report, "utf8"));
  } catch {}
  const count = (status) => cases.filter((c) => c.status === status).length;
  // A file that throws while loading (or a dangling rejection) is not in the JUnit report.
  const uncaught =
    stripAnsi(result.output).match(/^Uncaught error from \S+ FAILED$/gm)?.length ?? 0;
  const failed = count("fail") + uncaught;
  let crashed = "";
  if (result.timedOut) crashed = "timed out";
  else if (result.code !== 0 && failed === 0)
    crashed = `exit code ${result.code}, no failing test reported (see .tmp/deno.log)`;
  else if (cases.length === 0) crashed = "no tests found";
  return outcome("deno", {
    passed: count("pass"),
    failed,
    skipped: count("skip"),
    crashed,
    ms: result.ms,
  });
}

if (isMain(import.meta.url))
  await runStandalone((options) =>
    runDeno({
      ...options,
      files: process.argv.slice(2).length ? process.argv.slice(2) : undefined,
    }),
  );

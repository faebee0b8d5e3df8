#!/usr/bin/env node
// `npm run bench`: bundles bench/run.ts (Node 20 cannot import .ts) with esbuild into .tmp/bench/
// and runs it with Node, the main runtime: parse, encode, webhook verification and Endpoint
// delivery, each against its bare baseline, side by side in one process (see bench/README.md).
// `--runtimes=node,bun,deno` also runs the same bundle under Bun and Deno and adds a column per
// runtime (the 2-minute bound is for the default Node-only run). Every other option is passed to
// bench/run.ts: --rounds --slice-ms --events --delivery-rounds --partitions --server --only
// --fixtures --time-limit.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { distributionFixturesDir } from "../test/fixtures/paths.mjs";
import { bin, root, tmp } from "./run-lib.mjs";

const outdir = join(tmp, "bench");
const bundle = join(outdir, "run.mjs");
const known = ["node", "bun", "deno"];

const passed = [];
let runtimes = ["node"];
for (const arg of process.argv.slice(2)) {
  const match = /^--runtimes=(.*)$/.exec(arg);
  if (match) runtimes = match[1].split(",").filter(Boolean);
  else passed.push(arg);
}
// The bundle lives in .tmp/bench, where the fixtures' own path would resolve wrongly.
if (!passed.some((arg) => arg.startsWith("--fixtures"))) {
  passed.push(`--fixtures=${distributionFixturesDir}`);
}
const unknown = runtimes.filter((name) => !known.includes(name));
if (unknown.length > 0 || runtimes.length === 0) {
  console.error(`bench: --runtimes takes ${known.join(",")}; got ${runtimes.join(",")}`);
  process.exit(1);
}

mkdirSync(outdir, { recursive: true });
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["bench/run.ts"],
  outfile: bundle,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // standardwebhooks is CommonJS: bundled too, so Bun and Deno need no node_modules lookup.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});

const userArgs = process.argv.slice(2);
const command = `npm run bench${userArgs.length ? ` -- ${userArgs.join(" ")}` : ""}`;

function commandFor(name, json) {
  const args = [bundle, ...passed, `--json=${json}`];
  if (name === "node") return [process.execPath, ["--expose-gc", ...args]];
  if (name === "bun") return [bin("bun"), args];
  return [
    bin("deno"),
    ["run", "-A", "--no-lock", "--no-config", "--v8-flags=--expose-gc", ...args],
  ];
}

/** Runs one runtime with our stdio; resolves with its exit code. Killed if it outlives 3 min. */
function runOne(name, json) {
  const [file, args] = commandFor(name, json);
  return new Promise((done) => {
    const child = spawn(file, args, {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        BENCH_ROOT: root,
        BENCH_NODE: process.execPath,
        BENCH_COMMAND: command,
      },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      console.error(`bench: cannot start ${name}: ${error.message}`);
      done(1);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      done(code ?? (signal ? 1 : 0));
    });
  });
}

const results = [];
let exitCode = 0;
for (const name of runtimes) {
  if (runtimes.length > 1) console.log(`\n=== ${name} ===`);
  const json = join(outdir, `${name}.json`);
  rmSync(json, { force: true });
  const code = await runOne(name, json);
  if (code !== 0) {
    exitCode = code;
    console.error(`bench: ${name} exited with code ${code}`);
    continue;
  }
  results.push(JSON.parse(readFileSync(json, "utf8")));
}

if (results.length > 1) {
  // One column per runtime: ratio (ours figure) for every comparison.
  const ids = [...new Set(results.flatMap((result) => result.rows.map((row) => row.id)))];
  const width = 30;
  const cell = (text) => text.padEnd(width);
  console.log(
    `\nratio (ours) by runtime\n${cell("comparison")}${results.map((r) => cell(r.runtime)).join("")}`,
  );
  for (const id of ids) {
    const cells = results.map((result) => {
      const row = result.rows.find((candidate) => candidate.id === id);
      if (!row) return cell("-");
      const figure = row.ours[0];
      const value = figure.value >= 100 ? figure.value.toFixed(0) : figure.value.toFixed(2);
      return cell(`${row.ratio.toFixed(2)}x (${value} ${figure.unit})`);
    });
    console.log(cell(id) + cells.join(""));
  }
}
process.exit(exitCode);

// The benchmark entry point (bundled by scripts/bench.mjs, then run by Node, Bun or Deno).
// Options (all optional): --rounds=5 --slice-ms=150 --events=10000 --delivery-rounds=5
// --partitions=4 --server=child|same --only=parse,encode,verify,deliver --fixtures=<dir>
// --json=<file> --time-limit=110 (seconds).
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { distributionFixturesDir } from "../test/fixtures/paths.mjs";
import { benchDelivery } from "./delivery.ts";
import { loadFixtures, totalBytes } from "./fixtures.ts";
import { benchEncode, benchParse, benchVerify } from "./micro.ts";
import { formatTable, type Row, verdict } from "./report.ts";

const suites = ["parse", "encode", "verify", "deliver"] as const;
type Suite = (typeof suites)[number];

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`bench: unknown argument ${arg} (expected --name=value)`);
    args.set(match[1] as string, match[2] ?? "true");
  }
  return args;
}

function positiveInteger(args: Map<string, string>, name: string, fallback: number): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`bench: --${name} must be an integer >= 1, got ${raw}`);
  }
  return value;
}

function runtime(): string {
  const host = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (host.Bun) return `bun ${host.Bun.version}`;
  if (host.Deno) return `deno ${host.Deno.version.deno}`;
  return `node ${process.version}`;
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown cpu";
  const memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  return `${runtime()}, ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${model}), ${memory}`;
}

const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = process.env.BENCH_ROOT ?? process.cwd();
  const timeLimit = positiveInteger(args, "time-limit", 110);
  const hardStop = setTimeout(() => {
    console.error(`bench: time limit of ${timeLimit} s reached; aborting`);
    process.exit(2);
  }, timeLimit * 1000);
  const only = (args.get("only") ?? suites.join(",")).split(",");
  for (const name of only) {
    if (!suites.includes(name as Suite)) {
      throw new Error(`bench: --only takes ${suites.join(", ")}; got ${name}`);
    }
  }
  const micro = {
    rounds: positiveInteger(args, "rounds", 5),
    sliceMs: positiveInteger(args, "slice-ms", 150),
  };
  const fixturesDir = args.get("fixtures") ?? distributionFixturesDir;
  const fixtures = loadFixtures(fixturesDir);
  const command = process.env.BENCH_COMMAND ?? `${runtime()} ${process.argv.slice(1).join(" ")}`;
  const started = performance.now();

  console.log(`registry-relay bench: ${machine()}`);
  console.log(`load average at start: ${load()}`);
  console.log(
    `fixtures: ${fixtures.length} bodies, ${totalBytes(fixtures)} bytes from ${fixturesDir}`,
  );
  console.log(
    `method: sides interleaved in one process, first side alternating per round; micro: ` +
      `${micro.rounds} rounds of ${micro.sliceMs} ms per side after a warm-up slice; ratio = ` +
      "median of per-round ours/baseline; figures = median per side",
  );

  const rows: Row[] = [];
  const step = async (suite: Suite, run: () => Promise<Row[]>) => {
    if (!only.includes(suite)) return;
    const t = performance.now();
    const result = await run();
    rows.push(...result);
    console.error(`  ${suite}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  await step("parse", () => benchParse(fixtures, micro));
  await step("encode", () => benchEncode(fixtures, micro));
  await step("verify", () => benchVerify(fixtures, micro));
  await step("deliver", () =>
    benchDelivery(fixtures, {
      events: positiveInteger(args, "events", 10_000),
      rounds: positiveInteger(args, "delivery-rounds", 5),
      partitions: positiveInteger(args, "partitions", 4),
      server: args.get("server") === "same" ? "same" : "child",
      receiverPath: join(root, "bench/receiver.mjs"),
      nodePath: process.env.BENCH_NODE ?? "node",
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  console.log("");
  console.log(formatTable(rows));
  console.log("");
  const checked = rows.filter((row) => row.target !== undefined);
  const below = checked.filter((row) => verdict(row) === "BELOW");
  console.log(
    `${checked.length - below.length}/${checked.length} targets met` +
      (below.length ? ` (below: ${below.map((row) => row.id).join(", ")})` : "") +
      `; ${seconds.toFixed(1)} s; load average at end: ${load()}`,
  );
  console.log(`reproduce: ${command}`);

  const json = args.get("json");
  if (json) {
    writeFileSync(
      json,
      JSON.stringify({ runtime: runtime(), machine: machine(), command, seconds, rows }, null, 2),
    );
  }
  clearTimeout(hardStop);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
